#!/usr/bin/env bash
# Builds the CUDA release tree and packs what a GPU machine without build dependencies needs to run
# the gpu tests, compute-sanitizer, the kernel benchmark and a training run (scripts/gpu-check.sh):
#   build-gpu/             release build with the CUDA backend (sm_90 unless CUDA_ARCHS is set)
#   .gpu-libs/             the non-CUDA shared libraries the binaries load (from ldd), not libc/libm/
#                          ld-linux, not the CUDA driver, cuBLAS or cuDNN (those come from the machine)
#   .gpu-bundle/           bundle.tar.xz (binaries, ctest files, .gpu-libs) + the Fashion-MNIST training
#                          files: the one folder to carry to the GPU machine (about 40 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
archs=${CUDA_ARCHS:-90}

cmake -S . -B build-gpu -DDCGAN_CUDA=ON -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$archs" >/dev/null
make -C build-gpu -j2 --no-print-directory 2>&1 | grep -v -E '^\[|^make' || true
test -x build-gpu/dcgan -a -x build-gpu/benchmarks/bench_kernels -a -x build-gpu/benchmarks/bench_layers

bins=(build-gpu/dcgan build-gpu/benchmarks/bench_kernels build-gpu/benchmarks/bench_layers)
for t in build-gpu/tests/test_*; do [ -x "$t" ] && bins+=("$t"); done

# Shared libraries to ship: everything ldd resolves except the C library family and the CUDA stack.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libutil\.so|libcuda\.so|libcudart|libcublas|libcublasLt|libcudnn|libnvrtc|libnvJitLink)'
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
tar -cJf .gpu-bundle/bundle.tar.xz build-gpu/source-root "${bins[@]}" build-gpu/CTestTestfile.cmake \
    build-gpu/tests/CTestTestfile.cmake .gpu-libs
cp /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz \
    .gpu-bundle/fashion-mnist/

libs_mib=$(du -sm .gpu-libs | cut -f1)
bundle_mib=$(du -sm .gpu-bundle | cut -f1)
echo "gpu-bundle: ${#bins[@]} binaries (sm_$archs), .gpu-libs $libs_mib MiB ($(ls .gpu-libs | wc -l) libraries), .gpu-bundle $bundle_mib MiB"
ls .gpu-libs | sed 's/^/  /'
if [ "$bundle_mib" -gt 60 ]; then echo "gpu-bundle: .gpu-bundle is over 60 MiB" >&2; exit 1; fi
