#!/usr/bin/env bash
# GPU acceptance run on a machine with an NVIDIA GPU, CUDA 13 (nvcc, compute-sanitizer) and a
# Python environment with the nvidia-cudnn / nvidia-cublas wheels, but no build dependencies.
# Prepare here with scripts/gpu-bundle.sh, then run from the repository root on the GPU machine:
#
#   device tool: carry [".gpu-bundle"], two calls of at most 10 minutes each:
#     scripts/gpu-check.sh "$OUT" info ctest train bench
#     scripts/gpu-check.sh "$OUT" memcheck racecheck e2e
#   (no step names: all steps in one go). Copy the files of $OUT to benchmarks/results/.
#
# Steps and the files they write into OUTDIR (at most 8 files in all):
#   info       gpu-info.txt     date, nvidia-smi, libraries used, --device cuda/auto without a device
#   ctest      ctest.log        ctest -L gpu (or the same tests run directly when ctest is absent)
#   memcheck   memcheck.log     compute-sanitizer --tool memcheck on the gpu tests (quick shapes)
#   racecheck  racecheck.log    compute-sanitizer --tool racecheck on the gpu tests (quick shapes)
#   train      train.log, train-samples.png
#              dcgan train --device cuda on Fashion-MNIST at 64 px (1 epoch), images/s, last sample
#              grid; dcgan sample and dcgan bench on the GPU
#   bench      bench.log        bench_kernels: our kernels against cuDNN, GB/s of peak;
#                               bench_layers: every cuDNN algorithm per layer, TFLOP/s of peak
#   e2e        e2e.log          benchmarks/gpu_e2e.sh: dcgan bench against the PyTorch example
#                               (eager fp32 and its fast forms) on this GPU, 64 px nc 3 and others
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:?usage: scripts/gpu-check.sh OUTDIR [info|ctest|memcheck|racecheck|train|bench ...]}
shift
steps=${*:-info ctest memcheck racecheck train bench e2e}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# --- the bundle: unpack once, point the ctest files at this checkout --------------------------------
if [ ! -x build-gpu/dcgan ] || [ .gpu-bundle/bundle.tar.xz -nt build-gpu/dcgan ]; then
    if [ ! -f .gpu-bundle/bundle.tar.xz ]; then echo "gpu-check: no build-gpu/ and no .gpu-bundle/ (run scripts/gpu-bundle.sh)" >&2; exit 1; fi
    if command -v xz >/dev/null; then tar -xJf .gpu-bundle/bundle.tar.xz
    else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(".")' .gpu-bundle/bundle.tar.xz; fi
    touch build-gpu/dcgan
fi
built_at=$(cat build-gpu/source-root 2>/dev/null || echo "$root")
if [ "$built_at" != "$root" ]; then
    sed -i "s#$built_at#$root#g" build-gpu/CTestTestfile.cmake build-gpu/tests/CTestTestfile.cmake
    echo "$root" > build-gpu/source-root
fi

# --- libraries: the bundle, then cuDNN / cuBLAS (and nvrtc, which cuDNN loads) from the Python
# environment's nvidia wheels, then the CUDA toolkit --------------------------------------------------
py=python3
[ -x /opt/torch/.venv/bin/python3 ] && py=/opt/torch/.venv/bin/python3
wheel_dirs=$("$py" - <<'PY' 2>/dev/null
import glob, os
try:
    import nvidia
    bases = list(nvidia.__path__)
except Exception:
    bases = []
seen = []
for b in bases:
    for d in sorted(glob.glob(os.path.join(b, "*", "lib")) + glob.glob(os.path.join(b, "*", "*", "lib"))):
        if glob.glob(os.path.join(d, "lib*.so*")) and d not in seen:
            seen.append(d)
print(":".join(seen))
PY
)
if [ -z "$wheel_dirs" ]; then   # no importable nvidia package: look for the libraries under the venv
    wheel_dirs=$(find /opt/torch/.venv -name 'libcudnn.so.9' -o -name 'libcublas.so.13' -o -name 'libnvrtc.so.13' 2>/dev/null \
                 | xargs -r -n1 dirname | sort -u | paste -sd:)
fi
cuda_lib=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do [ -d "$d" ] && cuda_lib="$cuda_lib:$d"; done
export LD_LIBRARY_PATH="$root/.gpu-libs${wheel_dirs:+:$wheel_dirs}$cuda_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$PATH:/usr/local/cuda/bin:/opt/torch/.venv/bin"
sanitizer=$(command -v compute-sanitizer || true)
ctest_bin=$(command -v ctest || true)
[ "${GPU_CHECK_NO_CTEST:-0}" = 1 ] && ctest_bin=
dcgan=$root/build-gpu/dcgan

has_step() { case " $steps " in *" $1 "*) return 0;; esac; return 1; }
banner() { echo "=== $*"; echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"; echo "host: $(hostname)"; }

# The gpu tests without ctest: name, command (run in tests/ as ctest does); 77 = skipped.
gpu_tests=("test_gpu_ops:build-gpu/tests/test_gpu_ops" "test_gpu_train:build-gpu/tests/test_gpu_train"
           "test_parity_cuda:build-gpu/tests/test_parity cuda" "test_parity_cond_cuda:build-gpu/tests/test_parity_cond cuda")
run_tests_directly() {   # [wrapper...]: runs each gpu test, prints a ctest-like summary, returns failures
    local fails=0 name cmd rc
    for entry in "${gpu_tests[@]}"; do
        name=${entry%%:*}; cmd=${entry#*:}
        echo "--- $name: $* $cmd"
        (cd tests && DCGAN_BIN=$dcgan "$@" $root/$cmd); rc=$?
        case $rc in 0) echo "--- $name: Passed";; 77) echo "--- $name: Skipped (exit 77)";; *) echo "--- $name: FAILED (exit $rc)"; fails=$((fails+1));; esac
    done
    return $fails
}

if has_step info; then
    {
        banner "info"
        echo "command: scripts/gpu-check.sh $out $steps"
        echo "git: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
        nvidia-smi 2>&1 || echo "nvidia-smi: not available"
        echo; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
        echo "compute-sanitizer: ${sanitizer:-not found}"; echo "ctest: ${ctest_bin:-not found}"
        echo; echo "libraries of build-gpu/dcgan:"; ldd "$dcgan"
        echo; echo "--- without a visible device: --device cuda must fail with one line, --device auto fall back"
        CUDA_VISIBLE_DEVICES= "$dcgan" bench --device cuda --iters 1; echo "exit $?"
        tmp=$(mktemp -d)
        CUDA_VISIBLE_DEVICES= "$dcgan" train --device auto --dataset synthetic --size 32 --iters 2 --batch-size 8 \
            --ngf 8 --ndf 8 --sample-every 0 --out "$tmp/run" > "$tmp/log" 2>&1; echo "exit $?"; head -3 "$tmp/log"
        rm -rf "$tmp"
    } > "$out/gpu-info.txt" 2>&1
    echo "gpu-check: info -> $out/gpu-info.txt"
fi

if has_step ctest; then
    {
        banner "ctest -L gpu"
        if [ -n "$ctest_bin" ]; then
            echo "command: (cd build-gpu && ctest -L gpu --output-on-failure)"
            (cd build-gpu && timeout 540 "$ctest_bin" -L gpu --output-on-failure); echo "exit $?"
        else
            echo "ctest not found: running the gpu tests directly"
            timeout 540 bash -c "$(declare -p gpu_tests root dcgan); $(declare -f run_tests_directly); run_tests_directly"; echo "exit $?"
        fi
    } > "$out/ctest.log" 2>&1
    echo "gpu-check: ctest -> $out/ctest.log ($(tail -1 "$out/ctest.log"))"
fi

# compute-sanitizer on the gpu tests: quick shapes (32 px at batch 1/3/65, 64 px at batch 3) and
# cuDNN heuristics instead of the timed search, so each tool finishes within the time limit.
sanitize() {   # tool
    local tool=$1
    (
        banner "compute-sanitizer --tool $tool"
        if [ -z "$sanitizer" ]; then echo "compute-sanitizer not found"; exit 0; fi
        "$sanitizer" --version | head -2
        echo "command: DCGAN_TEST_QUICK=1 DCGAN_CUDNN_ALGO=heuristic compute-sanitizer --tool $tool --error-exitcode 99 <test>"
        DCGAN_TEST_QUICK=1 DCGAN_CUDNN_ALGO=heuristic timeout 560 bash -c \
            "$(declare -p gpu_tests root dcgan); $(declare -f run_tests_directly); run_tests_directly $sanitizer --tool $tool --error-exitcode 99"
        echo "exit $?"
    ) > "$out/$tool.log" 2>&1
    echo "gpu-check: $tool -> $out/$tool.log ($(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/$tool.log" | sort | uniq -c | tr '\n' ' ')$(tail -1 "$out/$tool.log"))"
}
has_step memcheck && sanitize memcheck
has_step racecheck && sanitize racecheck

if has_step train; then
    data=$root/.gpu-bundle/fashion-mnist
    [ -f "$data/train-images-idx3-ubyte.gz" ] || data=/usr/share/datasets/fashion-mnist
    run=$(mktemp -d)/run
    {
        banner "dcgan train --device cuda, Fashion-MNIST 64 px"
        cmd=("$dcgan" train --device cuda --dataset fashion-mnist --data "$data" --size 64 --epochs 1 --batch-size 64
             --sample-every 300 --ckpt-every 0 --log-every 100 --out "$run" --verbose)
        echo "command: ${cmd[*]}"
        timeout 400 "${cmd[@]}"; echo "exit $?"
        echo; echo "last metrics line:"; tail -1 "$run/metrics.jsonl" 2>/dev/null
        last=$(ls "$run"/samples_*.png 2>/dev/null | sort | tail -1)
        echo "last sample grid: ${last:-none}"
        [ -n "$last" ] && cp "$last" "$out/train-samples.png"
        echo; echo "--- dcgan sample --device cuda from the trained generator"
        timeout 60 "$dcgan" sample --device cuda --ckpt "$run/netG.safetensors" --count 256 --grid "$run/sample-cuda.png"; echo "exit $?"
        echo; echo "--- dcgan bench --device cuda (full iterations on fixed data, synchronised)"
        for size in 64 128; do timeout 60 "$dcgan" bench --device cuda --size $size --batch-size 64 --iters 50; done
        timeout 60 "$dcgan" bench --device cuda --size 64 --batch-size 256 --iters 50
        echo; echo "--- staged data path (DCGAN_STAGE_DATA=1), 200 iterations"
        DCGAN_STAGE_DATA=1 timeout 120 "$dcgan" train --device cuda --dataset fashion-mnist --data "$data" --size 64 \
            --iters 200 --batch-size 64 --sample-every 0 --ckpt-every 0 --log-every 100 --out "$run-staged" --verbose; echo "exit $?"
    } > "$out/train.log" 2>&1
    echo "gpu-check: train -> $out/train.log, $out/train-samples.png ($(grep -E 'img/s' "$out/train.log" | tail -1))"
fi

if has_step bench; then
    {
        banner "bench_kernels"
        echo "command: build-gpu/benchmarks/bench_kernels 20"
        timeout 300 "$root/build-gpu/benchmarks/bench_kernels" 20; echo "exit $?"
        banner "bench_layers"
        echo "command: build-gpu/benchmarks/bench_layers"
        timeout 240 "$root/build-gpu/benchmarks/bench_layers"; echo "exit $?"
    } > "$out/bench.log" 2>&1
    echo "gpu-check: bench -> $out/bench.log"
fi

if has_step e2e; then
    tmp=$(mktemp -d)
    {
        banner "benchmarks/gpu_e2e.sh (dcgan bench vs the PyTorch example on this GPU)"
        echo "command: DCGAN=build-gpu/dcgan benchmarks/gpu_e2e.sh <tmp> --sizes '32 64 128' --batches '64 128 256' --ncs 3"
        DCGAN=$dcgan PATH="/opt/torch/.venv/bin:$PATH" timeout 560 benchmarks/gpu_e2e.sh "$tmp" --sizes "32 64 128" \
            --batches "64 128 256" --ncs 3 --iters 50 --repeats 3; echo "exit $?"
        echo; cat "$tmp/table.txt" 2>/dev/null
        echo; echo "raw:"; cat "$tmp/raw.jsonl" 2>/dev/null
    } > "$out/e2e.log" 2>&1
    echo "gpu-check: e2e -> $out/e2e.log"
fi
