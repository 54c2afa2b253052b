#!/usr/bin/env bash
# Where the CPU backend's time goes in a training iteration: oneDNN's own timing of every
# primitive it runs (DNNL_VERBOSE=1: convolution directions and reorders, per layer shape, summed
# over the timed iterations and divided by them), next to the iteration's wall time, and perf's
# split by library and symbol (our batchnorm, activation, optimiser, noise; libgomp's barriers;
# oneDNN's JIT code shows as [JIT]).
# Usage: benchmarks/cpu_profile.sh [--size N --nc N --batch-size N --precision P --threads N --iters N]
set -euo pipefail
cd "$(dirname "$0")/.."
size=64 nc=3 batch=64 precision=fp32 threads=$(nproc) iters=5
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2 ;; --nc) nc=$2 ;; --batch-size) batch=$2 ;; --precision) precision=$2 ;;
    --threads) threads=$2 ;; --iters) iters=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x build/dcgan ] || scripts/build.sh
args="--size $size --nc $nc --batch-size $batch --precision $precision --threads $threads --device cpu"
echo "profile: dcgan bench $args; $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
build/dcgan bench $args --iters "$iters" --warmup 2 | tail -1
tmp=$(mktemp -d)
DNNL_VERBOSE=1 build/dcgan bench $args --iters "$iters" --warmup 0 > "$tmp/verbose.txt" 2>&1
echo "== oneDNN primitives, ms per iteration (DNNL_VERBOSE, $iters iterations; first-call JIT included)"
awk -F, -v n="$iters" '$2 == "exec" {k = $4 " " $6 " " $(NF-1); t[k] += $NF; all += $NF}
  END {for (k in t) printf "%9.2f  %s\n", t[k] / n, k; printf "%9.2f  all primitives\n", all / n}' "$tmp/verbose.txt" |
  sort -rn | head -30
if command -v perf > /dev/null && perf record -o "$tmp/perf.data" -q build/dcgan bench $args --iters "$iters" --warmup 1 > /dev/null 2>&1; then
  echo "== perf: share of samples by library"
  perf report -i "$tmp/perf.data" --no-children --sort dso 2>/dev/null | grep -E '^ +[0-9.]+%' | head -10
  echo "== perf: top symbols outside oneDNN's JIT code"
  perf report -i "$tmp/perf.data" --no-children --sort dso,sym 2>/dev/null | grep -E '^ +[0-9.]+%' | grep -v '\[JIT\]' |
    head -20 | sed 's/ \+$//'
else
  echo "perf: not available"
fi
rm -rf "$tmp"
