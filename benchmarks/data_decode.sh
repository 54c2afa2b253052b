#!/usr/bin/env bash
# Decode + preprocess throughput of `dcgan prepare` on CelebA-like image folders (178 x 218
# photos, as JPEG, PNG and WebP) at 64 px RGB, on all cores and on one; the time to start from
# the cache afterwards; and the per-iteration data-loading cost of a training run next to the
# training step itself. Needs build/dcgan and python3 with Pillow and numpy (to make the images).
#   benchmarks/data_decode.sh [N_IMAGES] > benchmarks/results/data-decode-<date>.txt
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3000}"
bin=build/dcgan
work="${DCGAN_BENCH_DIR:-/tmp/dcgan-data-bench}"
mkdir -p "$work"
echo "# dcgan data decode benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$work/.made-$n" ]; then
  python3 - "$work" "$n" <<'PY'
import os, sys
import numpy as np
from PIL import Image
root, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
y, x = np.mgrid[0:218, 0:178].astype(np.float32)
for fmt, ext, kw in [("JPEG", "jpg", {"quality": 95}), ("PNG", "png", {}), ("WEBP", "webp", {"quality": 90})]:
    os.makedirs(f"{root}/{ext}", exist_ok=True)
for i in range(n):
    # A face-sized blob on a smooth background with texture: photo-like statistics.
    bg = rng.uniform(40, 200, 3)
    cx, cy, r = rng.uniform(70, 110), rng.uniform(90, 130), rng.uniform(45, 65)
    face = ((x - cx) ** 2 / 0.7 + (y - cy) ** 2) < r * r
    img = np.empty((218, 178, 3), np.float32)
    for c in range(3):
        img[..., c] = bg[c] + 30 * np.sin(x * rng.uniform(0.01, 0.08) + y * rng.uniform(0.01, 0.05))
        img[..., c][face] = rng.uniform(120, 230) + 10 * np.sin(y[face] * 0.3)
    img += rng.normal(0, 4, img.shape)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    im.save(f"{root}/jpg/{i:06d}.jpg", quality=95)
    im.save(f"{root}/png/{i:06d}.png")
    im.save(f"{root}/webp/{i:06d}.webp", quality=90)
PY
  touch "$work/.made-$n"
fi
for ext in jpg png webp; do
  echo "# $ext: $(ls "$work/$ext" | wc -l) files, $(du -sh "$work/$ext" | cut -f1)"
done
echo
printf "%-6s %8s %12s %12s %14s %12s\n" format images "all cores" "img/s" "1 core img/s" "cached start"
for ext in jpg png webp; do
  rm -rf "$work/cache-$ext" "$work/cache1-$ext"
  t0=$(date +%s.%N)
  "$bin" prepare --dataset folder --data "$work/$ext" --size 64 --nc 3 --cache "$work/cache-$ext" > /dev/null 2>&1
  t1=$(date +%s.%N)
  OMP_NUM_THREADS=1 "$bin" prepare --dataset folder --data "$work/$ext" --size 64 --nc 3 --cache "$work/cache1-$ext" > /dev/null 2>&1
  t2=$(date +%s.%N)
  "$bin" prepare --dataset folder --data "$work/$ext" --size 64 --nc 3 --cache "$work/cache-$ext" > /dev/null 2>&1
  t3=$(date +%s.%N)
  python3 -c "import sys; n,a,b,c,d=map(float,sys.argv[1:6]); print(f'{sys.argv[6]:<6} {int(n):8d} {b-a:11.2f}s {n/(b-a):12.0f} {n/(c-b):14.0f} {d-c:11.3f}s')" \
    "$n" "$t0" "$t1" "$t2" "$t3" "$ext"
done
echo
echo "# training from the JPEG cache, 64 px, batch 64, CPU, default widths (20 iterations):"
"$bin" train --dataset folder --data "$work/jpg" --size 64 --nc 3 --batch-size 64 --iters 20 --device cpu \
  --cache "$work/cache-jpg" --sample-every 0 --log-every 10 --out "$work/run" 2>&1 | grep -E "using cache|\[20/20\]|data loading"
rm -rf "$work/run"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
