#!/usr/bin/env bash
# Builds the CUDA release tree and packs what a GPU machine without build dependencies needs to run
# the gpu tests, compute-sanitizer, the kernel benchmark and a training run (scripts/gpu-check.sh):
#   build-gpu/             release build with the CUDA backend (sm_90 unless CUDA_ARCHS is set)
#   .gpu-libs/             the non-CUDA shared libraries the binaries load (from ldd), not libc/libm/
#                          ld-linux, not the CUDA driver, cuBLAS, cuDNN or NCCL (those come from the
#                          machine: its driver and the nvidia wheels of its Python)
#   .gpu-bundle/           bundle.tar.xz (binaries, ctest files, .gpu-libs, the commit built) + the
#                          Fashion-MNIST training files + pytorch-fid's wheel: the one folder to carry
#                          to the GPU machine
# Run it in the checkout that the device call sends, since the call carries .gpu-bundle/ from there
# (scripts/gpu-check.sh's header gives the call). The device tool moves at most 64 MiB in all, the
# working tree (tracked and untracked, not ignored files) plus what it carries; this script fails
# when the two together pass 60 MiB. CUDA_ARCHS=... builds other architectures (default 90: sm_90,
# the H100 / H200; each more architecture grows the bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
archs=${CUDA_ARCHS:-90}

cmake -S . -B build-gpu -DDCGAN_CUDA=ON -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$archs" >/dev/null
make -C build-gpu -j2 --no-print-directory 2>&1 | grep -v -E '^\[|^make' || true
test -x build-gpu/dcgan -a -x build-gpu/benchmarks/bench_kernels -a -x build-gpu/benchmarks/bench_layers \
    -a -x build-gpu/benchmarks/bench_inception

bins=(build-gpu/dcgan build-gpu/benchmarks/bench_kernels build-gpu/benchmarks/bench_layers build-gpu/benchmarks/bench_inception)
for t in build-gpu/tests/test_*; do [ -x "$t" ] && bins+=("$t"); done

# Shared libraries to ship: everything ldd resolves except the C library family and the CUDA stack.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libutil\.so|libcuda\.so|libcudart|libcublas|libcublasLt|libcudnn|libnvrtc|libnvJitLink|libnccl)'
rm -rf .gpu-libs
mkdir -p .gpu-libs
missing=0
for b in "${bins[@]}"; do
    while read -r name arrow path _; do
        [ "$arrow" = "=>" ] || continue
        echo "$name" | grep -q -E "$skip" && continue
        if [ "$path" = "not" ]; then echo "gpu-bundle: $b needs $name, which is not found here" >&2; missing=1; continue; fi
        [ -e ".gpu-libs/$name" ] || cp -L "$path" ".gpu-libs/$name"
    done < <(ldd "$b")
done
[ "$missing" = 0 ]

rm -rf .gpu-bundle
mkdir -p .gpu-bundle/fashion-mnist
echo "$root" > build-gpu/source-root
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit+changes"
echo "$commit" > build-gpu/source-commit
mapfile -t ctest_files < <(find build-gpu -name CTestTestfile.cmake -not -path '*/CMakeFiles/*' | sort)
tar -cJf .gpu-bundle/bundle.tar.xz build-gpu/source-root build-gpu/source-commit "${bins[@]}" "${ctest_files[@]}" .gpu-libs
cp /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz \
    .gpu-bundle/fashion-mnist/
# pytorch-fid (pure Python; the GPU machine's PyTorch lacks it) for the Inception comparison of
# gpu-check.sh full: importable from the wheel file itself on PYTHONPATH.
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d .gpu-bundle pytorch-fid==0.3.0 \
    || echo "gpu-bundle: pytorch-fid could not be downloaded; gpu-check.sh full will time our Inception alone" >&2

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
libs_bytes=$(du -sb .gpu-libs | cut -f1)
bundle_bytes=$(du -sb .gpu-bundle | cut -f1)
# What the device call sends besides the carried bundle: tracked and untracked files git does not ignore.
tree_bytes=$(git ls-files -z -co --exclude-standard 2>/dev/null | xargs -0 -r stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
total=$((bundle_bytes + tree_bytes))
echo "gpu-bundle: ${#bins[@]} binaries (sm_$archs, commit $commit), .gpu-libs $(mib "$libs_bytes") MiB ($(ls .gpu-libs | wc -l) libraries)"
echo "gpu-bundle: .gpu-bundle $(mib "$bundle_bytes") MiB + working tree $(mib "$tree_bytes") MiB = $(mib "$total") MiB of the 64 MiB a device call moves"
ls .gpu-libs | sed 's/^/  /'
if [ "$total" -gt $((60 * 1048576)) ]; then
    echo "gpu-bundle: .gpu-bundle and the working tree together are over 60 MiB (the device call moves at most 64)" >&2
    exit 1
fi
