#!/usr/bin/env bash
# G against its moving average (--ema) on Fashion-MNIST at equal iterations: trains the default
# 32 px run with --ema in stretches (--resume continues bit for bit) and after each stretch scores
# netG and netG_ema on the same latent vectors with per-class statistics (benchmarks/class_stats.py:
# class coverage and distance to the nearest class mean; no weights needed) and, when Inception
# weights are there, with dcgan fid against the same reference set.
# Usage: benchmarks/ema_fashion_mnist.sh OUT_DIR [--points "500 1000 2000 3000"] [--count 1000]
#                                        [--ema 0.999] [--device cpu] [--inception FILE]
# --inception defaults to dcgan's (DCGAN_INCEPTION or ~/.cache/dcgan/...); without a file, no FID.
# --inception formula: the formula weights of tests/inception_random.c (FID that proves the code and
# ranks runs, but is not comparable with published FIDs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 2,9p "$0"; exit 2; }
out=$1; shift
points="500 1000 2000 3000" count=1000 ema=0.999 device=cpu inception=""
while [ $# -gt 0 ]; do
  case "$1" in
    --points) points=$2 ;; --count) count=$2 ;; --ema) ema=$2 ;; --device) device=$2 ;; --inception) inception=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x build/dcgan ] || scripts/build.sh
dcgan=build/dcgan
inception=${inception:-${DCGAN_INCEPTION:-${XDG_CACHE_HOME:-$HOME/.cache}/dcgan/pt_inception-2015-12-05.safetensors}}
mkdir -p "$out"
if [ "$inception" = formula ]; then
  inception=$out/inception-formula.safetensors
  build/benchmarks/bench_inception --write-formula-weights "$inception"
fi
run=$out/run
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
echo "dcgan: $(git rev-parse --short HEAD), train --dataset fashion-mnist --size 32 --ema $ema --device $device"
[ -f "$inception" ] && echo "inception: $inception" || echo "inception: none at $inception - per-class statistics only"
folders=()
first=1
for p in $points; do
  if [ $first = 1 ]; then
    $dcgan train --dataset fashion-mnist --ema "$ema" --iters "$p" --out "$run" --sample-every 0 --ckpt-every 0 \
      --device "$device" --log-every 500 | grep -E "^done|^training"
    first=0
  else
    $dcgan train --resume "$run" --iters "$p" --log-every 500 | grep -E "^done"
  fi
  for net in g ema; do
    flag=""; [ $net = g ] && flag=--no-ema
    $dcgan sample --ckpt "$run" $flag --device "$device" --count "$count" --seed 7 --out-dir "$out/$p-$net" >/dev/null
    folders+=("$out/$p-$net")
    if [ -f "$inception" ]; then
      r=$($dcgan fid --ckpt "$run" $flag --device "$device" --count "$count" --seed 7 --inception "$inception" \
          --kid-subsets 0 --json | tail -n 1)
      echo "fid iteration $p $net: $r"
    fi
  done
done
echo "per-class statistics (benchmarks/class_stats.py; the test images are what real data gives):"
python3 benchmarks/class_stats.py "${folders[@]}"
