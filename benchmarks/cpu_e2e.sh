#!/usr/bin/env bash
# CPU end-to-end training throughput: dcgan bench (the oneDNN backend, fp32 and bf16) against the
# PyTorch DCGAN example's iteration (benchmarks/pytorch_dcgan.py, fp32 eager) on the same machine,
# same threads (--threads for ours, torch.set_num_threads for PyTorch), same shapes. Without
# options it runs 32 px nc 1 and 64 px nc 3 (ngf = ndf = 64), batch 64 and 128, on 1 and 2
# threads; each config alternates ours fp32, ours bf16 and PyTorch --rounds times (wall clock on
# a shared machine is noisy; the medians are compared) and prints images/s and the ratios
# ours / PyTorch fp32.
# Usage: benchmarks/cpu_e2e.sh [--sizes "32:1 64:3"] [--batches "64 128"] [--threads "1 2"]
#                              [--ngf N] [--ndf N] [--iters N] [--rounds N] [--device cpu|cpu-ref]
#                              [--precisions "fp32 bf16"]
# PyTorch: the first of $PYTHONS (a space-separated list of interpreters, default "python3
# /usr/bin/python3") that imports torch, e.g. Debian's python3-torch; with several listed that
# import torch (say a venv with the PyPI wheel), each is timed and reported.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="32:1 64:3" batches="64 128" threads_list="1 2" ngf=64 ndf=64 iters=10 rounds=3 device=cpu
precisions="fp32 bf16"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2 ;; --batches) batches=$2 ;; --threads) threads_list=$2 ;; --ngf) ngf=$2 ;;
    --ndf) ndf=$2 ;; --iters) iters=$2 ;; --rounds) rounds=$2 ;; --device) device=$2 ;;
    --precisions) precisions=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x build/dcgan ] || scripts/build.sh
pythons=()
for p in ${PYTHONS:-python3 /usr/bin/python3}; do
  v=$("$p" -c "import torch; print(torch.__version__)" 2>/dev/null) || continue
  for q in "${pythons[@]+"${pythons[@]}"}"; do [ "$(readlink -f "$(command -v "$q")")" = "$(readlink -f "$(command -v "$p")")" ] && continue 2; done
  pythons+=("$p")
  echo "pytorch: $p, torch $v"
done
[ ${#pythons[@]} -gt 0 ] || echo "pytorch: not installed (apt-get install python3-torch) - no baseline, no ratio"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "dcgan: $(build/dcgan --version | grep -E '^(onednn|cpu):' | tr '\n' ';')"
summary=()
for cfg in $sizes; do
  IFS=: read -r s c <<<"$cfg"
  for b in $batches; do
    for th in $threads_list; do
      args="--size $s --nc $c --batch-size $b --ngf $ngf --ndf $ndf --iters $iters"
      declare -A res=()
      for _ in $(seq "$rounds"); do
        for prec in $precisions; do
          o=$(build/dcgan bench $args --device "$device" --precision "$prec" --threads "$th" --json 2>/dev/null)
          echo "dcgan $prec: $o"
          res[$prec]+="$(echo "$o" | python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])') "
        done
        for i in "${!pythons[@]}"; do
          t=$(OMP_NUM_THREADS=$th "${pythons[$i]}" benchmarks/pytorch_dcgan.py $args --threads "$th" --device cpu --json 2>/dev/null)
          echo "pytorch[$i]: $t"
          res[pt$i]+="$(echo "$t" | python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])') "
        done
      done
      line=$(python3 - "$s" "$c" "$b" "$th" "$precisions" "${#pythons[@]}" "$(declare -p res)" <<'PY'
import re, statistics, sys
s, c, b, th, precs, npy, decl = sys.argv[1:8]
res = dict(re.findall(r'\[([^\]]+)\]="([^"]*)"', decl))
med = {k: statistics.median(float(x) for x in v.split()) for k, v in res.items()}
out = ["%s px nc %s batch %s threads %s:" % (s, c, b, th)]
for p in precs.split():
    out.append("dcgan %s %.1f" % (p, med[p]))
for i in range(int(npy)):
    out.append("pytorch%s fp32 %.1f" % ("" if i == 0 else "[%d]" % i, med["pt%d" % i]))
if int(npy):
    for p in precs.split():
        out.append("ratio %s/pytorch %.2f" % (p, med[p] / med["pt0"]))
print("  ".join(out))
PY
)
      echo "$line"
      summary+=("$line")
      unset res
    done
  done
done
echo "== summary (images/s, medians of $rounds rounds; ratios against the first pytorch)"
printf '%s\n' "${summary[@]}"
