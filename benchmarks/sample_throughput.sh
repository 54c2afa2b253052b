#!/usr/bin/env bash
# Throughput of `dcgan sample --count N --out-dir DIR` (images/s, PNG files on disk) for a small
# model (32 px gray, ngf 8) and the default 64 px RGB model (ngf 64, nz 100). The generators are
# trained for one iteration: the speed does not depend on the weights.
# Usage: benchmarks/sample_throughput.sh [COUNT_SMALL] [COUNT_64PX]     (defaults 50000, 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-50000} big=${2:-10000}
[ -x build/dcgan ] || scripts/build.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) threads, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
build/dcgan train --dataset synthetic --size 32 --ngf 8 --ndf 8 --batch-size 8 --iters 1 --device cpu --out "$tmp/small" > /dev/null
build/dcgan train --dataset synthetic --size 64 --nc 3 --batch-size 8 --iters 1 --device cpu --out "$tmp/big" > /dev/null
echo "small (32 px, nc 1, ngf 8), $small images:"
build/dcgan sample --ckpt "$tmp/small/netG.safetensors" --device cpu --count "$small" --out-dir "$tmp/o1"
rm -rf "$tmp/o1"
echo "default (64 px, nc 3, ngf 64), $big images:"
build/dcgan sample --ckpt "$tmp/big/netG.safetensors" --device cpu --count "$big" --out-dir "$tmp/o2"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
