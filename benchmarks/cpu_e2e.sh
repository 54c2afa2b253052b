#!/usr/bin/env bash
# CPU end-to-end training throughput: dcgan bench against the PyTorch DCGAN example's iteration
# on the same machine, same threads, same shapes (default: 32 px, nc 1, batch 64, ngf = ndf = 64).
# Usage: benchmarks/cpu_e2e.sh [--size N] [--nc N] [--batch-size N] [--ngf N] [--ndf N] [--iters N]
set -euo pipefail
cd "$(dirname "$0")/.."
size=32 nc=1 batch=64 ngf=64 ndf=64 iters=20
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2 ;; --nc) nc=$2 ;; --batch-size) batch=$2 ;; --ngf) ngf=$2 ;; --ndf) ndf=$2 ;; --iters) iters=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
threads=$(nproc)
args="--size $size --nc $nc --batch-size $batch --ngf $ngf --ndf $ndf --iters $iters"
[ -x build/dcgan ] || scripts/build.sh
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $threads threads; $(date -u +%Y-%m-%dT%H:%MZ)"
ours=$(OMP_NUM_THREADS=$threads build/dcgan bench $args --device cpu --json)
echo "dcgan:   $ours"
if python3 -c "import torch" 2>/dev/null; then
  theirs=$(python3 benchmarks/pytorch_dcgan.py $args --threads "$threads" --device cpu --json 2>/dev/null)
  echo "pytorch: $theirs"
  python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("images/s: dcgan %.1f, pytorch %.1f, ratio dcgan/pytorch = %.2f"
      % (a["images_per_s"], b["images_per_s"], a["images_per_s"] / b["images_per_s"]))
PY
else
  echo "pytorch: not installed (pip install torch) - no baseline, no ratio"
fi
