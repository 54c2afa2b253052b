#!/usr/bin/env bash
# GPU end-to-end training throughput: `dcgan bench --device cuda` against the PyTorch DCGAN
# example's iteration on the same device, in the same session: PyTorch eager fp32
# (cudnn.benchmark) and its best fast form (bf16 autocast + channels_last + torch.compile and/or
# the whole iteration as one CUDA graph). Sweeps 32/64/128 px, batch 64/128/256, nc 1 and 3.
# Usage: benchmarks/gpu_e2e.sh OUTDIR [--sizes "32 64 128"] [--batches "64 128 256"] [--ncs "1 3"]
#                              [--forms eager,compile,graph,compile+graph] [--iters N] [--repeats N]
#                              [--compile-mode default] [--timeout SECONDS]
# --timeout bounds each dcgan and each PyTorch process (0 = no limit); a run stopped by it is
# recorded as an error and the sweep goes on. torch.compile runs in --compile-mode (its default
# mode unless told: max-autotune takes minutes per configuration).
# Environment: DCGAN = the dcgan binary [build/dcgan], or an executable wrapper around it.
# Writes OUTDIR/raw.jsonl (one line per run, appended as each finishes), OUTDIR/table.txt, and
# the logs of each run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [options]" >&2; exit 2; }
out=$1; shift
sizes="32 64 128" batches="64 128 256" ncs="1 3" forms="eager,compile,graph,compile+graph" iters=50 repeats=5
compile_mode=default limit=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2 ;; --batches) batches=$2 ;; --ncs) ncs=$2 ;; --forms) forms=$2 ;;
    --iters) iters=$2 ;; --repeats) repeats=$2 ;; --compile-mode) compile_mode=$2 ;; --timeout) limit=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
dcgan=${DCGAN:-build/dcgan}   # DCGAN=path picks another build (e.g. build-gpu/dcgan)
[ -x "$dcgan" ] || { echo "error: $dcgan not found (build with the CUDA backend first)" >&2; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || { echo "error: no CUDA device (nvidia-smi -L failed)" >&2; exit 1; }
python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
  || { echo "error: torch with CUDA is needed for the baseline" >&2; exit 1; }
mkdir -p "$out"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader)"
  echo "host: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"
  echo "dcgan: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "torch: $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())')"
} | tee "$out/env.txt"
: > "$out/raw.jsonl"
for size in $sizes; do for nc in $ncs; do for batch in $batches; do
  tag="s${size}_nc${nc}_b${batch}"
  args="--size $size --nc $nc --batch-size $batch --ngf 64 --ndf 64"
  ours=$(timeout -k 5 "$limit" "$dcgan" bench $args --device cuda --iters "$iters" --repeats "$repeats" --warmup 10 --json \
           2>"$out/$tag.dcgan.log") || ours="{\"error\":\"dcgan bench failed (exit $?)\"}"
  theirs=$(PYTHONUNBUFFERED=1 timeout -k 5 "$limit" python3 benchmarks/pytorch_dcgan.py $args --device cuda \
             --forms "$forms" --compile-mode "$compile_mode" --iters "$iters" --repeats "$repeats" --warmup 10 \
             --json 2>"$out/$tag.pytorch.log") || theirs="{\"error\":\"pytorch_dcgan.py failed (exit $?)\"}"
  echo "{\"size\":$size,\"nc\":$nc,\"batch\":$batch,\"dcgan\":$ours,\"pytorch\":$theirs}" | tee -a "$out/raw.jsonl"
done; done; done
python3 - "$out/raw.jsonl" <<'PY' | tee "$out/table.txt"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fmt = "%4s %3s %5s %12s %12s %12s %-14s %9s %9s"
print(fmt % ("px", "nc", "batch", "dcgan img/s", "eager img/s", "best img/s", "best form", "ours/eag", "ours/best"))
for r in rows:
    ours = r["dcgan"].get("images_per_s")
    pt = r["pytorch"]
    eager = pt.get("forms", {}).get("eager", {}).get("images_per_s")
    best, form = pt.get("best_images_per_s"), pt.get("best_form") or "-"
    f = lambda x: "%.0f" % x if x else "-"
    ratio = lambda a, b: "%.2f" % (a / b) if a and b else "-"
    print(fmt % (r["size"], r["nc"], r["batch"], f(ours), f(eager), f(best), form, ratio(ours, eager), ratio(ours, best)))
PY
