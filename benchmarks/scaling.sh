#!/usr/bin/env bash
# Data-parallel scaling on this machine: `dcgan bench` (CPU backend, synthetic data resident in
# memory, full training iterations) as one process of one OpenMP thread, then as 2 ranks under
# mpirun of one thread each, each rank pinned to its own core, with --batch-size per rank (weak
# scaling: the global batch grows with the ranks, as in training). Rounds alternate 1 rank,
# 2 ranks and 2 ranks with --sync-bn; the medians are compared. Prints for each config the global
# images/s, the speed-up of 2 ranks over 1, the time per iteration inside the gradient
# all-reduces (waits for the slower rank included) and the time of one all-reduce of both
# gradients alone, with the bytes it moves. The raw JSON lines are printed as they come.
# Usage: benchmarks/scaling.sh [--iters N] [--rounds N] [--configs "32:1:64 64:3:64"]
set -euo pipefail
cd "$(dirname "$0")/.."
iters=10 rounds=3 configs="32:1:64 64:3:64"
while [ $# -gt 0 ]; do
  case "$1" in
    --iters) iters=$2 ;; --rounds) rounds=$2 ;; --configs) configs=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x build/dcgan ] || scripts/build.sh
command -v mpirun > /dev/null || { echo "mpirun not found (scripts/setup.sh installs Open MPI)" >&2; exit 1; }
mpirun=(mpirun --oversubscribe --allow-run-as-root --mca btl self,vader --bind-to core --map-by core)
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(mpirun --version | head -1)"
echo "command: benchmarks/scaling.sh --iters $iters --rounds $rounds --configs \"$configs\""
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
for cfg in $configs; do
  IFS=: read -r s c b <<<"$cfg"
  args="--size $s --nc $c --batch-size $b --ngf 64 --ndf 64 --iters $iters --warmup 2 --device cpu --json"
  one=() two=() sync=()
  for _ in $(seq "$rounds"); do
    o=$(taskset -c 0 build/dcgan bench $args 2>/dev/null); echo "1 rank:          $o"; one+=("$o")
    t=$("${mpirun[@]}" -np 2 build/dcgan bench $args 2>/dev/null); echo "2 ranks:         $t"; two+=("$t")
    y=$("${mpirun[@]}" -np 2 build/dcgan bench $args --sync-bn 2>/dev/null); echo "2 ranks sync-bn: $y"; sync+=("$y")
  done
  ips1=$(for j in "${one[@]}"; do field "$j" images_per_s; done | median)
  ips2=$(for j in "${two[@]}"; do field "$j" images_per_s; done | median)
  ipss=$(for j in "${sync[@]}"; do field "$j" images_per_s; done | median)
  it2=$(for j in "${two[@]}"; do field "$j" median_iter_s; done | median)
  ar2=$(for j in "${two[@]}"; do field "$j" allreduce_s_per_iter; done | median)
  alone=$(for j in "${two[@]}"; do field "$j" allreduce_alone_s; done | median)
  ars=$(for j in "${sync[@]}"; do field "$j" allreduce_s_per_iter; done | median)
  bytes=$(field "${two[0]}" grad_bytes)
  python3 - "$s" "$c" "$b" "$ips1" "$ips2" "$ipss" "$it2" "$ar2" "$alone" "$ars" "$bytes" <<'PY'
import sys
s, c, b = sys.argv[1:4]
ips1, ips2, ipss, it2, ar2, alone, ars, nbytes = map(float, sys.argv[4:12])
print(f"== {s} px, nc {c}, batch {b} per rank, ngf = ndf = 64, one thread per rank")
print(f"   1 rank: {ips1:.1f} img/s | 2 ranks: {ips2:.1f} img/s = {ips2 / ips1:.2f}x"
      f" | 2 ranks --sync-bn: {ipss:.1f} img/s = {ipss / ips1:.2f}x")
print(f"   2 ranks: {it2 * 1e3:.1f} ms/iter, in all-reduces {ar2 * 1e3:.2f} ms/iter ({100 * ar2 / it2:.1f}%, waits included);"
      f" both gradients ({nbytes / 1e6:.2f} MB) alone {alone * 1e3:.2f} ms ({nbytes / alone / 1e9:.2f} GB/s)")
print(f"   --sync-bn: in all-reduces {ars * 1e3:.2f} ms/iter")
PY
done
