#!/usr/bin/env bash
# CPU end-to-end training throughput: dcgan bench against the PyTorch DCGAN example's iteration
# on the same machine, same threads, same shapes. Without shape options it runs two configs:
# 32 px nc 1 batch 64 and 64 px nc 3 batch 64 (ngf = ndf = 64), alternating dcgan and PyTorch
# --rounds times each (wall clock on a shared machine is noisy; the medians are compared).
# Usage: benchmarks/cpu_e2e.sh [--size N --nc N --batch-size N] [--ngf N] [--ndf N] [--iters N]
#                              [--rounds N] [--threads N]
# OpenBLAS picks its sgemm kernels from the CPU, or from OPENBLAS_CORETYPE when that is set; the
# kernel set in use is printed, since it changes our side of the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
configs="" ngf=64 ndf=64 iters=20 rounds=3 threads=$(nproc) size="" nc="" batch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2 ;; --nc) nc=$2 ;; --batch-size) batch=$2 ;; --ngf) ngf=$2 ;; --ndf) ndf=$2 ;;
    --iters) iters=$2 ;; --rounds) rounds=$2 ;; --threads) threads=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
if [ -n "$size$nc$batch" ]; then configs="${size:-32}:${nc:-1}:${batch:-64}"; else configs="32:1:64 64:3:64"; fi
[ -x build/dcgan ] || scripts/build.sh
blas=$(ldd build/dcgan | awk '/libopenblas/ {print $3}')
core=$(python3 -c "import ctypes,sys; l=ctypes.CDLL(sys.argv[1]); l.openblas_get_corename.restype=ctypes.c_char_p; print(l.openblas_get_corename().decode())" "$blas" 2>/dev/null || echo unknown)
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $threads threads; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "openblas: $blas, kernels $core (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"
have_torch=1
python3 -c "import torch" 2>/dev/null || { have_torch=0; echo "pytorch: not installed (pip install torch) - no baseline, no ratio"; }
for cfg in $configs; do
  IFS=: read -r s c b <<<"$cfg"
  args="--size $s --nc $c --batch-size $b --ngf $ngf --ndf $ndf --iters $iters"
  ours=() theirs=()
  for _ in $(seq "$rounds"); do
    o=$(OMP_NUM_THREADS=$threads build/dcgan bench $args --device cpu --json)
    echo "dcgan:   $o"
    ours+=("$o")
    if [ $have_torch = 1 ]; then
      t=$(python3 benchmarks/pytorch_dcgan.py $args --threads "$threads" --device cpu --json 2>/dev/null)
      echo "pytorch: $t"
      theirs+=("$t")
    fi
  done
  [ $have_torch = 1 ] || continue
  python3 - "$cfg" "${ours[@]}" -- "${theirs[@]}" <<'PY'
import json, statistics, sys
cfg, rest = sys.argv[1], sys.argv[2:]
k = rest.index("--")
a = statistics.median(json.loads(x)["images_per_s"] for x in rest[:k])
b = statistics.median(json.loads(x)["images_per_s"] for x in rest[k + 1:])
s, c, n = cfg.split(":")
print("%s px nc %s batch %s: median images/s dcgan %.1f, pytorch %.1f, ratio dcgan/pytorch = %.2f"
      % (s, c, n, a, b, a / b))
PY
done
