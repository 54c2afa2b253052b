#!/usr/bin/env bash
# CPU Inception-v3 forward throughput (the FID features): bench_inception (our network on the
# oneDNN backend, or --device cpu-ref) against pytorch-fid's InceptionV3 (benchmarks/
# pytorch_inception.py, fp32 eager under no_grad) on the same machine, same threads (--threads
# for ours, torch.set_num_threads for PyTorch, OMP_NUM_THREADS for both), same images, batch and
# weights (tests/inception_random.c's formula). Without options it runs 32 px nc 1 and 64 px nc 3
# at batch 50 (pytorch-fid's) on 1 and 2 threads; each config alternates ours and PyTorch --rounds
# times (wall clock on a shared machine is noisy; the medians are compared) and prints images/s
# and the ratio ours / PyTorch. Keep --images a multiple of each batch: our short last batch is
# padded to a full one (its work timed), PyTorch's runs short.
# Usage: benchmarks/inception_cpu.sh [--sizes "32:1 64:3"] [--batches "50"] [--threads "1 2"]
#                                    [--rounds N] [--images N] [--repeats N] [--device cpu|cpu-ref]
# PyTorch: $PYTHON (default python3), an interpreter with torch, torchvision and pytorch-fid, e.g.
# a venv made as pytorch_inception.py's docstring says: PYTHON=ENV/bin/python benchmarks/inception_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="32:1 64:3" batches="50" threads_list="1 2" rounds=3 images=200 repeats=3 device=cpu
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "option $1 needs a value" >&2; exit 2; }
  case "$1" in
    --sizes) sizes=$2 ;; --batches) batches=$2 ;; --threads) threads_list=$2 ;; --rounds) rounds=$2 ;;
    --images) images=$2 ;; --repeats) repeats=$2 ;; --device) device=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
# Build bench_inception when missing or stale (configuring first when there is no build yet).
if [ -f build/CMakeCache.txt ]; then
  cmake -S . -B build >/dev/null && cmake --build build -j "$(nproc)" --target bench_inception >/dev/null
else
  scripts/build.sh
fi
bench=build/benchmarks/bench_inception
python=${PYTHON:-python3}
if v=$("$python" -c "import torch, torchvision, pytorch_fid; print(torch.__version__, torchvision.__version__, pytorch_fid.__version__)" 2>/dev/null); then
  read -r tv tvv pfv <<<"$v"
  echo "pytorch: $python, torch $tv, torchvision $tvv, pytorch-fid $pfv"
  have_py=1
else
  echo "pytorch: $python lacks torch, torchvision or pytorch-fid (set PYTHON to a venv with them, see benchmarks/pytorch_inception.py) - no baseline, no ratio"
  have_py=0
fi
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
json_ips() { python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])'; }
summary=() described=0
for cfg in $sizes; do
  IFS=: read -r s c <<<"$cfg"
  for b in $batches; do
    for th in $threads_list; do
      args=(--size "$s" --nc "$c" --batch "$b" --images "$images" --repeats "$repeats" --threads "$th" --json)
      [ $((images % b)) = 0 ] || echo "note: --images $images is not a multiple of batch $b: ours pads the last batch to $b images, PyTorch runs it short" >&2
      ours="" theirs=""
      for _ in $(seq "$rounds"); do
        o=$(OMP_NUM_THREADS=$th "$bench" --device "$device" "${args[@]}" 2>"$log") || { cat "$log" >&2; exit 1; }
        [ "$described" = 1 ] || { echo "dcgan: $(head -n 1 "$log")"; described=1; }
        echo "dcgan: $o"
        ours+="$(echo "$o" | json_ips) "
        if [ "$have_py" = 1 ]; then
          t=$(OMP_NUM_THREADS=$th "$python" benchmarks/pytorch_inception.py --device cpu "${args[@]}" 2>"$log") || { cat "$log" >&2; exit 1; }
          echo "pytorch: $t"
          theirs+="$(echo "$t" | json_ips) "
        fi
      done
      line=$(python3 - "$s" "$c" "$b" "$th" "$ours" "$theirs" <<'PY'
import statistics, sys
s, c, b, th, ours, theirs = sys.argv[1:7]
out = ["%s px nc %s batch %s threads %s:" % (s, c, b, th)]
mo = statistics.median(float(x) for x in ours.split())
out.append("dcgan %.2f" % mo)
if theirs.split():
    mt = statistics.median(float(x) for x in theirs.split())
    out += ["pytorch-fid %.2f" % mt, "ratio dcgan/pytorch %.2f" % (mo / mt)]
print("  ".join(out))
PY
)
      echo "$line"
      summary+=("$line")
    done
  done
done
echo "== summary (images/s, medians of $rounds rounds of the median of $repeats repeats of $images images; ours on --device $device)"
printf '%s\n' "${summary[@]}"
