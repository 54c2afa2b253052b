#!/usr/bin/env bash
# GPU proof for a machine with an NVIDIA GPU, its driver, compute-sanitizer and a python3 with
# PyTorch (and the nvidia-cudnn / nvidia-cublas / nvidia-nccl wheels that our binaries load too),
# but no build dependencies and no MPI. Prepare it in the checkout that the device call sends, with
# scripts/gpu-bundle.sh (builds build-gpu/ for sm_90 and packs .gpu-bundle/, about 39 MiB; it fails
# on a failed build), then make ONE device call:
#
#   run   carry [".gpu-bundle"]   command: scripts/gpu-check.sh "$OUT" quick   timeout_s 420
#
# and, when device time is left, optionally a later one with the same carry:
#
#   run   carry [".gpu-bundle"]   command: scripts/gpu-check.sh "$OUT" full    timeout_s 480
#
# Copy the files that come back to benchmarks/results/ (named with the device and the date).
#
# quick: the whole proof, at most 348 s of step limits (each step runs under `timeout`), so one
# call ends within 6 minutes. Steps in order, their limits, and the files they write into OUT
# (the device tool returns at most 8 files; quick writes exactly these 8):
#   unpack       16 s   -                   .gpu-bundle/bundle.tar.xz into build-gpu/, .gpu-libs/ and
#                                           .gpu-data/ (when newer; tar 10), each binary against the
#                                           sha256 the bundle carries, the nvidia wheel directories (3),
#                                           the libraries' ldd (3)
#   info         27 s   info.txt            the commit built and every binary's sha256, nvidia-smi (3 + 3),
#                                           date, dcgan --version (12: the first load of cuDNN and cuBLAS
#                                           from disk), ldd (2), and --device cuda (3) / auto (4) with
#                                           CUDA_VISIBLE_DEVICES=
#   gpu-tests    70 s   gpu-tests.log       ctest -N -L gpu (5), then ctest -L gpu -V (65; 60 per test)
#                                           in build-gpu (the tests run directly when ctest is absent),
#                                           with DCGAN_REQUIRE_GPU=1: no usable device = a failure. The
#                                           tests take cuDNN's heuristics but test_ops_cuda_default_math
#                                           (the timed search); test_gpu_nccl runs last, its NCCL rank
#                                           without a launcher; a part a test reports "not available:"
#                                           (the mpirun part without Open MPI) is listed, not passed
#   sanitizers  100 s   sanitizers.log      compute-sanitizer --version (3), then --tool T --error-exitcode
#     memcheck   30 s     (all four tools)    99 on test_ops --backend cuda with DCGAN_TEST_QUICK=1 (the
#     racecheck  25 s                         light and quick cases) and DCGAN_CUDNN_ALGO=heuristic;
#     synccheck  20 s                         memcheck and synccheck on every op, racecheck and initcheck
#     initcheck  25 s                         on the families whose kernels are ours (--op: all but conv
#                                           and dense, which are cuDNN's and cuBLAS's).
#                                           A tool the device refuses ("Device not supported") is
#                                           "unavailable on this device", with the tool's own line
#   train        30 s   train.log           dcgan train --device cuda --verbose, Fashion-MNIST 64 px nc 1,
#                       train-samples.png     500 iterations of batch 64, samples every 250; last grid
#   parity       60 s   (train.log)         the trained G on cuda and cpu: sample, interpolate and
#                                           arithmetic grids within 1/255 (scripts/gpu_parity.py); and
#                                           10 iterations on cuda (FMA math) and on cpu from one seed,
#                                           losses within what another summation order does
#                                           (bounds derived in scripts/gpu_parity.py). Not run when the
#                                           train step failed
#   bench        15 s   bench.log           dcgan bench --device cuda --size 64 --nc 3 --batch-size 128
#   pytorch      30 s   pytorch.log         benchmarks/pytorch_dcgan.py, same config (ngf = ndf = 64),
#                                           eager fp32 (cudnn.benchmark)
#                       summary.txt         one line per step (seconds since the start first), written
#                                           as each ends, then the verdict
# Every log is written as its step runs, so a step stopped by its limit still leaves its output.
#
# full: the longer benchmarks, at most 419 s of step limits, in this order: unpack 16, info 23
#   (info.txt), compile 70 (compile.log: the PyTorch example at 64 px nc 3 batch 128 under
#   torch.compile, default mode, the whole iteration as one CUDA graph; reported, not judged),
#   kernels 60 (op-perf.log: test_ops --perf --backend cuda on the op families whose kernels are ours,
#   against cuDNN's batchnorm and pooling and the bandwidth),
#   layers 60 (bench-layers.log: bench_layers --reps 10, every cuDNN algorithm per layer),
#   inception 35 (inception.log: bench_inception on cuda with cuDNN's heuristics, 64 px nc 3 batch 50,
#   against pytorch-fid's InceptionV3 on the same GPU from the bundled wheel), e2e 155 (e2e.log:
#   benchmarks/gpu_e2e.sh, dcgan bench against PyTorch eager and its CUDA graph at 32/64/128 px x
#   batch 64/128/256, nc 3, 25 s per process), summary.txt.
#
# Exit status: 0 only when every gpu test passed (none skipped, at least one found), each of the
# four sanitizers reported 0 errors or was refused by the device (listed as unavailable), every
# binary matched its sha256, --device cuda / auto behaved without a device, the training run and
# the bench exited 0 and the parity checks held (full: when each benchmark exited 0). The PyTorch
# numbers are reported, not judged. Without a GPU every device step fails quickly and the last line
# says so.
#
# Libraries: our binaries (and ctest / compute-sanitizer running them) get LD_LIBRARY_PATH =
# .gpu-libs (the bundle's Debian libraries; its libstdc++ / libgcc_s only when the machine's own
# lack a version our binaries need), the nvidia wheel directories (cuDNN, cuBLAS, nvrtc, NCCL), the CUDA
# toolkit, then the machine's own path. python3 / torch and nvidia-smi run with the machine's own
# environment, unchanged.
#
# Usage: scripts/gpu-check.sh OUTDIR [quick|full|STEP...]   (STEP: unpack is always done; info
#        gpu-tests sanitizers train parity bench pytorch kernels layers inception compile e2e).
#        GPU_CHECK_NO_CTEST=1 runs the gpu tests directly even where ctest is found.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD
usage="usage: scripts/gpu-check.sh OUTDIR [quick|full|STEP...]"
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
out=$1; shift
mode=${1:-quick}
case "$mode" in
    quick) steps="info gpu-tests sanitizers train parity bench pytorch" ;;
    full) steps="info kernels layers inception compile e2e" ;;
    *) steps="$*"; mode=steps
       known=" info gpu-tests sanitizers train parity bench pytorch kernels layers inception compile e2e "
       for s in $steps; do
           case "$known" in *" $s "*) ;; *) echo "gpu-check: unknown step '$s'; $usage" >&2; exit 2 ;; esac
       done ;;
esac
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
summary=$out/summary.txt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=()                 # reasons the verdict is FAIL
fail_steps=()            # and the steps (or checks) they came from
unavail=()               # checks this machine cannot run (refused by the device, no launcher): listed

# --- environments ----------------------------------------------------------------------------------
# The machine's own PATH and LD_LIBRARY_PATH, as found: python3 / torch and nvidia-smi run with them.
orig_path=$PATH
if [ -n "${LD_LIBRARY_PATH+x}" ]; then orig_ld_set=1; orig_ld=$LD_LIBRARY_PATH; else orig_ld_set=0; orig_ld=; fi
machine() {
    if [ "$orig_ld_set" = 1 ]; then env PATH="$orig_path" LD_LIBRARY_PATH="$orig_ld" "$@"
    else env -u LD_LIBRARY_PATH PATH="$orig_path" "$@"; fi
}
py=$(command -v python3 || true)
[ -z "$py" ] && [ -x /opt/torch/.venv/bin/python3 ] && py=/opt/torch/.venv/bin/python3
first_of() { local c; for c in "$@"; do [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return; }; done; }
sanitizer=$(first_of "$(command -v compute-sanitizer)" /usr/local/cuda/bin/compute-sanitizer \
                     /usr/local/cuda/compute-sanitizer/compute-sanitizer)
ctest_bin=$(first_of "$(command -v ctest)" /opt/torch/.venv/bin/ctest)
[ "${GPU_CHECK_NO_CTEST:-0}" = 1 ] && ctest_bin=
lb=()                    # line-buffered stdout/stderr, so that a killed program's output is kept
command -v stdbuf >/dev/null && lb=(stdbuf -oL -eL)
dcgan=$root/build-gpu/dcgan

# run_logged LOG LIMIT ours|machine CMD...: appends "$ CMD" and CMD's output to LOG while it runs,
# under `timeout LIMIT` (the whole process group is stopped); sets rc (124/137: timed out) and secs.
run_logged() {
    local log=$1 limit=$2 who=$3 t0=$SECONDS; shift 3
    printf '\n$ %s\n' "$*" >>"$log"
    if [ "$who" = ours ]; then env LD_LIBRARY_PATH="$our_ld" timeout -k 5 "$limit" "${lb[@]}" "$@" >>"$log" 2>&1
    else machine timeout -k 5 "$limit" "$@" >>"$log" 2>&1; fi
    rc=$?; secs=$((SECONDS - t0))
    case $rc in 124|137) echo "[stopped: over its ${limit} s limit]" >>"$log" ;; esac
    echo "[exit $rc after ${secs} s]" >>"$log"
}
timed_out() { [ "$rc" = 124 ] || [ "$rc" = 137 ]; }
# note STEP STATUS TEXT: one line of summary.txt (and of this script's output), written at once,
# after the seconds since the start.
note() { printf '%4ss %-11s %-8s %s\n' "$SECONDS" "$1" "$2" "$3" | tee -a "$summary"; }
# fail STEP REASON: the verdict is FAIL, for REASON.
fail() { fail_steps+=("$1"); fails+=("$2"); }
# unavailable STEP TEXT: a check this machine cannot run, listed in the verdict, never passed.
unavailable() { note "$1" n/a "$2"; unavail+=("$1: $2"); }
# start_log LOG TEXT: a step's log begins with what it is and what it runs on (device, driver,
# runtime, cuDNN and cuBLAS as loaded and as built).
start_log() {
    { echo "$2"; echo "device: ${gpu_name:-none found}"; [ -n "${versions:-}" ] && echo "$versions"; } > "$1"
}
first_line() { grep -m1 -E "$1" "$2" 2>/dev/null | sed -E 's/^[0-9]+: //' | cut -c1-160; }
# last_output LOG: the output lines of the last command run_logged wrote to LOG.
last_output() { awk '/^\$ / { buf = ""; next } !/^\[(exit|stopped)/ { buf = buf $0 "\n" } END { printf "%s", buf }' "$1"; }

{
    echo "gpu-check $mode ($steps) $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname)"
} > "$summary"
cat "$summary"

# --- unpack: the bundle into build-gpu/, the ctest files pointed at this checkout; the binaries checked ---
t0=$SECONDS
unpack_ok=1
if [ ! -x build-gpu/dcgan ] || [ .gpu-bundle/bundle.tar.xz -nt build-gpu/dcgan ]; then
    if [ ! -f .gpu-bundle/bundle.tar.xz ]; then
        note unpack FAILED "no build-gpu/ and no .gpu-bundle/bundle.tar.xz (scripts/gpu-bundle.sh makes them)"
        fail unpack "no build"; unpack_ok=0
    elif command -v xz >/dev/null; then timeout 10 tar -xJf .gpu-bundle/bundle.tar.xz || unpack_ok=0
    else machine timeout 10 "$py" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(".")' \
             .gpu-bundle/bundle.tar.xz || unpack_ok=0
    fi
    if [ "$unpack_ok" = 1 ]; then touch build-gpu/dcgan; unpacked="unpacked .gpu-bundle/bundle.tar.xz"
    elif [ -f .gpu-bundle/bundle.tar.xz ]; then note unpack FAILED "could not unpack .gpu-bundle/bundle.tar.xz"; fail unpack "unpack"; fi
else
    unpacked="build-gpu/ up to date"
fi
if [ "$unpack_ok" = 1 ]; then
    built_at=$(cat build-gpu/source-root 2>/dev/null || echo "$root")
    if [ "$built_at" != "$root" ]; then
        find build-gpu -name CTestTestfile.cmake -exec sed -i "s#$built_at#$root#g" {} +
        echo "$root" > build-gpu/source-root
    fi
    commit=$(cat build-gpu/source-commit 2>/dev/null || echo "unknown (no build-gpu/source-commit)")
    # Each binary against the sha256 written when the bundle was made (build-gpu/bundle.sha256).
    if [ ! -f build-gpu/bundle.sha256 ]; then
        hashes="no build-gpu/bundle.sha256 (a bundle from before the hashes)"
        note unpack FAILED "$unpacked; built from commit $commit; $hashes"; fail unpack "binaries unchecked: $hashes"
    elif ! hash_check=$(sha256sum -c build-gpu/bundle.sha256 2>&1); then
        bad_hashes=$(echo "$hash_check" | grep -v ': OK$' | tr '\n' ' ' | cut -c1-200)
        note unpack FAILED "$unpacked; built from commit $commit; differ from their sha256: $bad_hashes"
        fail unpack "binaries differ from the bundle's sha256"
    else
        hashes="$(wc -l < build-gpu/bundle.sha256) binaries match their sha256 (dcgan $(grep -m1 ' build-gpu/dcgan$' build-gpu/bundle.sha256 | cut -c1-16))"
        note unpack passed "$unpacked in $((SECONDS - t0)) s; built from commit $commit; $hashes"
    fi
fi

# --- libraries for our binaries: the bundle's, then the nvidia wheels' (cuDNN, cuBLAS, nvrtc), then the
# CUDA toolkit's, then the machine's own path ----------------------------------------------------------
wheel_dirs=""
if [ -n "$py" ]; then
    wheel_dirs=$(machine timeout 3 "$py" - <<'PY' 2>/dev/null
import glob, os
try:
    import nvidia
    bases = list(nvidia.__path__)
except Exception:
    bases = []
seen = []
for b in bases:
    for d in sorted(glob.glob(os.path.join(b, "*", "lib")) + glob.glob(os.path.join(b, "*", "*", "lib"))):
        if glob.glob(os.path.join(d, "lib*.so*")) and d not in seen:
            seen.append(d)
print(":".join(seen))
PY
)
fi
if [ -z "$wheel_dirs" ] && [ -d /opt/torch/.venv ]; then   # no importable nvidia package: look under the venv
    wheel_dirs=$(find /opt/torch/.venv \( -name 'libcudnn.so.9' -o -name 'libcublas.so.13' -o -name 'libnvrtc.so.13' -o -name 'libnccl.so.2' \) \
                 -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)
fi
cuda_lib=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do [ -d "$d" ] && cuda_lib="$cuda_lib:$d"; done
rest_ld="${wheel_dirs:+:$wheel_dirs}$cuda_lib${orig_ld:+:$orig_ld}"
# The bundle's GCC runtime (libstdc++, libgcc_s) is left out when the machine's own satisfies our
# binaries (ldd finds every version they need): the machine's is then the newer one, and ctest and
# compute-sanitizer, which run with this path too, keep the runtime they were built for.
libs_dir=$root/.gpu-libs runtime="bundled"
if [ -d .gpu-libs ] && [ -x "$dcgan" ]; then
    mkdir -p "$tmp/libs"
    for f in .gpu-libs/*; do
        case ${f##*/} in libstdc++.so.6|libgcc_s.so.1) ;; *) ln -s "$root/$f" "$tmp/libs/" ;; esac
    done
    if ! LD_LIBRARY_PATH="$tmp/libs$rest_ld" timeout 3 ldd "$dcgan" "$root/build-gpu/tests/test_ops" 2>&1 \
            | grep -q 'not found'; then
        libs_dir=$tmp/libs runtime="the machine's"
    fi
fi
our_ld="$libs_dir$rest_ld"

has_step() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }
ready() {   # STEP: whether the build is there to run the step
    [ "$unpack_ok" = 1 ] && [ -x "$dcgan" ] && return 0
    note "$1" FAILED "no build-gpu/dcgan"; return 1
}

# --- info ----------------------------------------------------------------------------------------------
gpu_name="" no_gpu=""
command -v nvidia-smi >/dev/null \
    && gpu_name=$(machine timeout 3 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
if [ -n "$gpu_name" ]; then
    note device found "$gpu_name"
else
    why="nvidia-smi not found"; command -v nvidia-smi >/dev/null && why="nvidia-smi finds no GPU"
    note device none "no GPU: $why"
    fail device "no GPU ($why)"; no_gpu="$why"
fi

# dcgan --version, once (the first program to load cuDNN / cuBLAS from disk): the head of every log.
versions="" version_out="" version_rc=1
if [ "$unpack_ok" = 1 ] && [ -x "$dcgan" ]; then
    version_out=$(env LD_LIBRARY_PATH="$our_ld" timeout 12 "$dcgan" --version 2>&1); version_rc=$?
    [ "$version_rc" = 0 ] && versions=$(echo "$version_out" | tail -n +2)
fi

if has_step info && ready info; then
    log=$out/info.txt
    {
        echo "gpu-check $mode: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname)"
        echo "checkout: $root (build from commit ${commit:-unknown})"
        echo "sha256 of the bundle's binaries (build-gpu/bundle.sha256, checked after unpacking):"
        sed 's/^/  /' build-gpu/bundle.sha256 2>/dev/null || echo "  none: no build-gpu/bundle.sha256"
        echo "our LD_LIBRARY_PATH: $our_ld (libstdc++ / libgcc_s: $runtime)"
        echo "machine LD_LIBRARY_PATH: ${orig_ld:-<unset>}"
        echo "python3: ${py:-not found}; compute-sanitizer: ${sanitizer:-not found}; ctest: ${ctest_bin:-not found}"
    } > "$log"
    run_logged "$log" 3 machine nvidia-smi
    printf '\n$ %s --version\n%s\n[exit %s]\n' "$dcgan" "$version_out" "$version_rc" >> "$log"
    version=$(echo "$version_out" | head -1 | cut -c1-120)
    run_logged "$log" 2 ours ldd "$dcgan"
    run_logged "$log" 3 ours env CUDA_VISIBLE_DEVICES= "$dcgan" bench --device cuda --iters 1; nodev_cuda=$rc
    nodev_cuda_msg=$(last_output "$log" | tail -1 | cut -c1-120)
    run_logged "$log" 4 ours env CUDA_VISIBLE_DEVICES= "$dcgan" train --device auto --dataset synthetic --size 32 \
        --iters 2 --batch-size 8 --ngf 8 --ndf 8 --sample-every 0 --out "$tmp/nodev"; nodev_auto=$rc
    nodev_auto_msg=$(last_output "$log" | grep -m1 -i -E 'note|cpu' | cut -c1-100)
    if [ "$version_rc" = 0 ]; then vtext="version: $version"; else vtext="dcgan --version exited $version_rc"; fi
    if [ "$nodev_cuda" != 0 ] && [ "$nodev_cuda" != 124 ] && [ "$nodev_cuda" != 137 ] && [ "$nodev_auto" = 0 ]; then
        note info passed "$vtext; without a device: --device cuda exit $nodev_cuda ($nodev_cuda_msg), --device auto exit 0 ($nodev_auto_msg)"
    else
        note info FAILED "$vtext; without a device: --device cuda exit $nodev_cuda (must fail), --device auto exit $nodev_auto (must fall back and pass)"
        fail info "no-device behaviour"
    fi
fi

# --- gpu tests -------------------------------------------------------------------------------------------
# The gpu-labelled tests of build-gpu's CTestTestfile.cmake files, one line each, those with
# DEPENDS last: name, working directory, environment (A=B;C=D), command, args..., separated by \x1f.
list_gpu_tests() {
    machine "$py" - "$root/build-gpu" <<'PY'
import os, re, sys
q = re.compile(r'"((?:[^"\\]|\\.)*)"')
def name_of(s):
    m = re.match(r'\s*(?:\[(=*)\[(.*?)\]\1\]|"((?:[^"\\]|\\.)*)"|(\S+))', s)
    return m.group(2) or m.group(3) or m.group(4), s[m.end():]
def walk(d):
    f = os.path.join(d, "CTestTestfile.cmake")
    if not os.path.exists(f):
        return
    cmds, props = {}, {}
    for line in open(f):
        line = line.strip()
        if line.startswith("add_test("):
            name, rest = name_of(line[len("add_test("):])
            cmds[name] = [v.replace('\\"', '"') for v in q.findall(rest)]
        elif line.startswith("set_tests_properties("):
            name, rest = name_of(line[len("set_tests_properties("):])
            toks = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', rest.replace("PROPERTIES", "", 1).rstrip(")"))
            kv = {}
            for k, v in zip(toks[0::2], toks[1::2]):
                kv[k] = v[1:-1] if v.startswith('"') else v
            props[name] = kv
        elif line.startswith("subdirs("):
            for sub in q.findall(line):
                walk(os.path.join(d, sub))
    for name, cmd in cmds.items():
        p = props.get(name, {})
        if "gpu" in p.get("LABELS", "").split(";"):
            # A test that DEPENDS on others runs after them, as ctest runs it.
            (later if p.get("DEPENDS") else first).append(
                "\x1f".join([name, p.get("WORKING_DIRECTORY", d), p.get("ENVIRONMENT", "")] + cmd))
first, later = [], []
walk(sys.argv[1])
print("\n".join(first + later))
PY
}

if has_step gpu-tests && ready gpu-tests; then
    log=$out/gpu-tests.log
    res=$tmp/test-results      # name status
    : > "$res"
    start_log "$log" "gpu tests with DCGAN_REQUIRE_GPU=1 (then a test without a usable GPU fails instead of skipping)"
    names=""
    if [ -n "$ctest_bin" ]; then
        # Discovered by ctest itself (test names change); its per-test result lines are read back.
        names=$(env LD_LIBRARY_PATH="$our_ld" timeout 5 env -C build-gpu "$ctest_bin" -N -L gpu 2>/dev/null \
                | sed -n -E 's/^ *Test +#[0-9]+: +([^ ]+).*/\1/p')
        if [ -n "$names" ]; then echo "ctest -N -L gpu: ${names//$'\n'/ }" >> "$log"
        else echo "$ctest_bin -N -L gpu listed no test: the CTestTestfile.cmake files are read instead" >> "$log"; fi
    fi
    if [ -n "$names" ]; then
        run_logged "$log" 65 ours env -C build-gpu DCGAN_REQUIRE_GPU=1 "$ctest_bin" -L gpu -V --timeout 60
        grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$log" \
            | sed -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: +([^ ]+) [ .]*(\*\*\*)?([A-Za-z][A-Za-z :()]*[A-Za-z)]) +[0-9.]+ sec.*/\1 \3/' \
            >> "$res"
    else
        plan=$(list_gpu_tests)
        names=$(echo "$plan" | cut -d$'\x1f' -f1)
        echo "without ctest: the gpu tests of build-gpu/**/CTestTestfile.cmake run directly: ${names//$'\n'/ }" >> "$log"
        t_end=$((SECONDS + 65))
        while IFS=$'\x1f' read -r name wd envs cmd; do
            [ -n "$name" ] || continue
            left=$((t_end - SECONDS))
            if [ "$left" -le 0 ]; then echo "$name no result (step limit reached)" >> "$res"; continue; fi
            IFS=';' read -r -a envv <<< "$envs"
            IFS=$'\x1f' read -r -a argv <<< "$cmd"
            echo "--- $name" >> "$log"
            run_logged "$log" "$((left < 60 ? left : 60))" ours env -C "$wd" "${envv[@]}" DCGAN_REQUIRE_GPU=1 "${argv[@]}"
            case $rc in 0) st=Passed ;; 77) st=Skipped ;; 124|137) st=Timeout ;; *) st="Failed (exit $rc)" ;; esac
            echo "--- $name: $st" >> "$log"
            echo "$name $st" >> "$res"
        done <<< "$plan"
    fi
    n=0 passed=0 failed=0 skipped=0 bad=""
    for name in $names; do
        n=$((n + 1))
        st=$(awk -v n="$name" '$1 == n { $1 = ""; s = substr($0, 2) } END { print s }' "$res")
        case $st in
            Passed) passed=$((passed + 1)) ;;
            Skipped) skipped=$((skipped + 1)); bad="$bad $name(skipped)" ;;
            "") failed=$((failed + 1)); bad="$bad $name(no result)" ;;
            *) failed=$((failed + 1)); bad="$bad $name($st)" ;;
        esac
    done
    counts="$n tests: $passed passed, $failed failed, $skipped skipped"
    if [ "$n" -gt 0 ] && [ "$passed" = "$n" ]; then
        note gpu-tests passed "$counts (${names//$'\n'/ })"
    else
        reason=$(first_line '^([0-9]+: )?(skipped:|FAIL|[Ee]rror)' "$log")
        [ "$n" = 0 ] && bad=" no gpu test found"
        note gpu-tests FAILED "$counts;$bad${reason:+; first reason: $reason}"
        fail gpu-tests "gpu tests: $counts"
    fi
    # The parts of tests this machine cannot run (a line "not available: ..." of the test itself).
    while IFS= read -r line; do
        [ -n "$line" ] && unavailable gpu-tests "${line#not available: }"
    done < <(grep -E '^([0-9]+: )?not available: ' "$log" | sed -E 's/^[0-9]+: //' | sort -u | cut -c1-200)
fi

# --- compute-sanitizer on the reduced op test --------------------------------------------------------------
# memcheck and synccheck on every op family of test_ops; racecheck and initcheck on the families
# whose kernels are ours (conv and dense are cuDNN's and cuBLAS's: their hazards are not ours to fix,
# and racecheck over them can outrun the step).
our_ops=batchnorm,activation,loss,optim,noise,data,concat,pool,resize,copy
# A line of compute-sanitizer itself that says it cannot run here (as under some sandboxes: "Device
# not supported", then error 999 at the first allocation), not a report about our code.
refusal='Device not supported|device is not supported|not supported on this (device|platform|GPU)|unsupported (device|GPU|driver|platform)|(Failed|Unable) to (initialize|attach|connect)'
# Reports about the code checked: accesses, hazards, barriers, uninitialised reads.
report='Invalid __|Race reported|[Hh]azard|Uninitialized|Barrier error|Misaligned|Out-of-range|Error: (Race|Barrier)'
if has_step sanitizers && ready sanitizers; then
    log=$out/sanitizers.log
    start_log "$log" "compute-sanitizer on build-gpu/tests/test_ops --backend cuda with DCGAN_TEST_QUICK=1 DCGAN_CUDNN_ALGO=heuristic (racecheck, initcheck: --op $our_ops)"
    [ -n "$sanitizer" ] && env LD_LIBRARY_PATH="$our_ld" timeout 3 "$sanitizer" --version >> "$log" 2>&1
    for spec in memcheck:30:all racecheck:25:ours synccheck:20:all initcheck:25:ours; do
        IFS=: read -r tool limit which <<< "$spec"
        if [ -z "$sanitizer" ]; then note "$tool" FAILED "compute-sanitizer not found"; fail "$tool" "$tool not run"; continue; fi
        ops=(); what="every op"
        [ "$which" = ours ] && ops=(--op "$our_ops") && what="our kernels"
        echo "=== $tool ($what)" >> "$log"
        start=$(wc -l < "$log")
        run_logged "$log" "$limit" ours env -C tests DCGAN_BIN="$dcgan" DCGAN_TEST_QUICK=1 DCGAN_CUDNN_ALGO=heuristic \
            DCGAN_REQUIRE_GPU=1 "$sanitizer" --tool "$tool" --error-exitcode 99 --print-limit 50 \
            "$root/build-gpu/tests/test_ops" --backend cuda "${ops[@]}"
        part=$tmp/$tool.part
        tail -n +"$start" "$log" > "$part"
        line=$(grep -E 'ERROR SUMMARY' "$part" | tail -1 | sed 's/^=* *//')
        [ -z "$line" ] && line=$(grep -E 'RACECHECK SUMMARY' "$part" | tail -1 | sed 's/^=* *//')
        errors=$(echo "$line" | sed -n -E 's/.*ERROR SUMMARY: *([0-9]+) error.*/\1/p; s/.*\(([0-9]+) error.*/\1/p' | head -1)
        test_line=$(grep -E '^test_ops' "$part" | tail -1 | cut -c1-80)
        refused=$(grep -E '^=+ ' "$part" | grep -v -E 'Program hit' | grep -m1 -E "$refusal" | sed -E 's/^=+ *//' | cut -c1-160)
        if [ "$rc" = 0 ] && [ "$errors" = 0 ]; then
            note "$tool" passed "$line on $what (${secs} s)${test_line:+; $test_line}"
        elif [ -n "$refused" ] && ! grep -E '^=+ ' "$part" | grep -v SUMMARY | grep -q -E "$report"; then
            unavailable "$tool" "unavailable on this device: compute-sanitizer says \"$refused\" (exit $rc)"
        else
            if timed_out; then why="stopped at its ${limit} s limit"
            elif [ -z "$line" ]; then why="exit $rc, no summary: $(first_line 'skipped:|FAIL|[Ee]rror|not supported' "$part")"
            else why="exit $rc"; fi
            note "$tool" FAILED "${line:-no ERROR SUMMARY} on $what; $why"
            fail "$tool" "$tool: ${errors:-?} errors ($why)"
        fi
    done
fi

# --- one Fashion-MNIST training run ---------------------------------------------------------------------------
# Fashion-MNIST's training files: unpacked from the bundle, else the machine's own.
data=$root/.gpu-data/fashion-mnist
[ -f "$data/train-images-idx3-ubyte" ] || [ -f "$data/train-images-idx3-ubyte.gz" ] || data=/usr/share/datasets/fashion-mnist
train_status=""          # passed / failed once the train step has run
if has_step train && ready train; then
    log=$out/train.log
    run=$tmp/train
    start_log "$log" "dcgan train on Fashion-MNIST from $data"
    run_logged "$log" 30 ours "$dcgan" train --device cuda --dataset fashion-mnist --data "$data" --size 64 --nc 1 \
        --iters 500 --batch-size 64 --sample-every 250 --ckpt-every 0 --log-every 50 --out "$run" --verbose
    train_rc=$rc
    last=$(ls "$run"/samples_*.png 2>/dev/null | sort -V | tail -1)
    [ -n "$last" ] && cp "$last" "$out/train-samples.png" && echo "last sample grid: $last -> train-samples.png" >> "$log"
    echo "last metrics line: $(tail -1 "$run/metrics.jsonl" 2>/dev/null)" >> "$log"
    prog=$(grep -E '^\[[0-9]+/[0-9]+\]' "$log" | tail -1)
    stats=$(echo "$prog" | sed -n -E 's/^\[([0-9]+\/[0-9]+)\].*Loss_D: ([-0-9.naif]+) +Loss_G: ([-0-9.naif]+).* ([0-9.]+) img\/s.*/iteration \1, Loss_D \2, Loss_G \3, \4 img\/s/p')
    if [ "$train_rc" = 0 ] && [ -n "$last" ]; then
        train_status=passed
        note train passed "${stats:-no progress line} (${secs} s in all); samples: $(basename "$last")"
    else
        why="exit $train_rc"; timed_out && why="stopped at its 30 s limit"
        train_status=failed
        note train FAILED "$why; ${stats:-no progress line}; $(first_line '^error|FAIL' "$log")"
        fail train "train ($why)"
    fi
fi

# --- parity: the trained generator and the first iterations, cuda against cpu ----------------------------------
# Not when the train step failed: there is no trained G, and training on cuda is what failed.
if has_step parity && [ "$train_status" = failed ]; then
    note parity skipped "not run: the train step failed"
    fail parity "parity not run (the train step failed)"
elif has_step parity && ready parity; then
    log=$out/train.log
    run=$tmp/train
    echo "=== parity: cuda against cpu" >> "$log"
    t_end=$((SECONDS + 60)) bad=0 checked=""
    left() { local l=$((t_end - SECONDS)); [ "$l" -lt 1 ] && l=1; echo "$l"; }
    if [ -f "$run/netG.safetensors" ]; then
        for dev in cuda cpu; do
            run_logged "$log" "$(left)" ours "$dcgan" sample --device "$dev" --ckpt "$run/netG.safetensors" --count 64 \
                --sheet "$tmp/sample-$dev.png"
            run_logged "$log" "$(left)" ours "$dcgan" interpolate --device "$dev" --ckpt "$run/netG.safetensors" --rows 4 \
                --steps 8 --grid "$tmp/walk-$dev.png"
            run_logged "$log" "$(left)" ours "$dcgan" arithmetic --device "$dev" --ckpt "$run/netG.safetensors" \
                --z "$tmp/sample-$dev.npy" --plus 1,2,3 --minus 4,5,6 --plus 7,8,9 --grid "$tmp/arith-$dev.png"
        done
        for pic in sample walk arith; do
            run_logged "$log" "$(left)" machine "$py" scripts/gpu_parity.py images "$tmp/$pic-cpu.png" "$tmp/$pic-cuda.png" --tol 1
            [ "$rc" = 0 ] || bad=$((bad + 1)); checked="$checked $pic:$rc"
        done
    else
        echo "no trained generator (the train step did not run or failed)" >> "$log"; bad=$((bad + 1))
    fi
    for dev in cuda cpu; do
        run_logged "$log" "$(left)" ours env DCGAN_CUDNN_MATH=fma "$dcgan" train --device "$dev" --dataset fashion-mnist \
            --data "$data" --size 64 --nc 1 --iters 10 --batch-size 64 --sample-every 0 --ckpt-every 0 --log-every 10 \
            --out "$tmp/track-$dev"
    done
    run_logged "$log" "$(left)" machine "$py" scripts/gpu_parity.py losses "$tmp/track-cpu/metrics.jsonl" \
        "$tmp/track-cuda/metrics.jsonl"
    [ "$rc" = 0 ] || bad=$((bad + 1))
    track=$(last_output "$log" | tail -1 | cut -c1-120)
    if [ "$bad" = 0 ]; then note parity passed "sample, interpolate, arithmetic within 1/255 of the cpu; losses: $track"
    else note parity FAILED "images (exit per grid):${checked:- none}; losses: $track"; fail parity "parity ($bad checks)"; fi
fi

# --- dcgan bench ---------------------------------------------------------------------------------------------
ours_ips=""
if has_step bench && ready bench; then
    log=$out/bench.log
    start_log "$log" "dcgan bench: full training iterations, timed as the PyTorch side is: blocks of 30, one sync each; median of 3"
    run_logged "$log" 15 ours "$dcgan" bench --device cuda --size 64 --nc 3 --batch-size 128 --ngf 64 --ndf 64 \
        --iters 30 --repeats 3 --warmup 10 --json
    ours_ips=$(sed -n -E 's/.*"images_per_s":([0-9.]+).*/\1/p' "$log" | tail -1)
    ms=$(sed -n -E 's/.*"median_iter_s":([0-9.]+).*/\1/p' "$log" | tail -1)
    if [ "$rc" = 0 ] && [ -n "$ours_ips" ]; then
        note bench passed "64 px nc 3 batch 128: $ours_ips img/s (median $(awk -v s="$ms" 'BEGIN { printf "%.2f", s * 1e3 }') ms/iter)"
    else
        why="exit $rc"; timed_out && why="stopped at its 15 s limit"
        note bench FAILED "$why; $(first_line '^error|FAIL' "$log")"
        fail bench "bench ($why)"
    fi
fi

# --- the PyTorch example on the same config, with the machine's own environment --------------------------------
# pytorch (quick): eager fp32; compile (full): torch.compile, default mode, the iteration as one CUDA graph.
# Reported, not judged.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "-" }'; }
# pytorch_step STEP LOG LIMIT FORM TEXT
pytorch_step() {
    local step=$1 log=$2 limit=$3 form=$4 text=$5 ips warm why
    start_log "$log" "benchmarks/pytorch_dcgan.py with the machine's own environment (python3: ${py:-not found})"
    if [ -z "$py" ]; then note "$step" FAILED "python3 not found"; return; fi
    run_logged "$log" "$limit" machine env PYTHONUNBUFFERED=1 "$py" benchmarks/pytorch_dcgan.py --device cuda --size 64 \
        --nc 3 --batch-size 128 --ngf 64 --ndf 64 --forms "$form" --compile-mode default --iters 30 --repeats 3 --warmup 10
    ips=$(sed -n -E "s/^pytorch dcgan \[${form//+/\\+}\]:.*: ([0-9.]+) images\/s.*/\1/p" "$log" | tail -1)
    warm=$(sed -n -E "s/^pytorch dcgan \[${form//+/\\+}\]:.*warm-up ([0-9.]+) s.*/\1/p" "$log" | tail -1)
    text="64 px nc 3 batch 128, $text: ${ips:-failed}${ips:+ img/s}${warm:+ (warm-up $warm s)}"
    [ -n "$ours_ips" ] && text="$text; ours/$form $(ratio "$ours_ips" "$ips")"
    if [ -n "$ips" ]; then note "$step" passed "$text"
    else
        why="exit $rc"; timed_out && why="stopped at its $limit s limit"
        note "$step" FAILED "$text; $why; $(first_line 'failed:|[Ee]rror' "$log")"
    fi
}
has_step pytorch && pytorch_step pytorch "$out/pytorch.log" 30 eager "eager fp32"
has_step compile && pytorch_step compile "$out/compile.log" 70 compile+graph \
    "torch.compile + CUDA graph (bf16 autocast, channels_last, default mode)"

# --- full: the longer benchmarks ----------------------------------------------------------------------------------
if has_step kernels && ready kernels; then
    log=$out/op-perf.log
    start_log "$log" "test_ops --perf --backend cuda --op $our_ops: our kernels against cuDNN's batchnorm and pooling and the bandwidth"
    run_logged "$log" 60 ours env DCGAN_REQUIRE_GPU=1 "$root/build-gpu/tests/test_ops" --perf --backend cuda --op "$our_ops" --reps 20
    if [ "$rc" = 0 ]; then note kernels passed "$(grep -c ' ms' "$log") timings (${secs} s)"
    else note kernels FAILED "exit $rc; $(first_line 'skipped|FAIL|[Ee]rror' "$log")"; fail kernels "test_ops --perf (exit $rc)"; fi
fi
if has_step layers && ready layers; then
    log=$out/bench-layers.log
    start_log "$log" "bench_layers: every cuDNN algorithm for every layer of the 64 px model, fp32 and TF32"
    run_logged "$log" 60 ours "$root/build-gpu/benchmarks/bench_layers" --reps 10
    if [ "$rc" = 0 ]; then note layers passed "$(first_line '^device' "$log") (${secs} s)"
    else note layers FAILED "exit $rc (77: no device); $(first_line 'skipped|[Ee]rror' "$log")"; fail layers "bench_layers (exit $rc)"; fi
fi
if has_step inception && ready inception; then
    log=$out/inception.log
    start_log "$log" "Inception-v3 (FID features): bench_inception on cuda against pytorch-fid's InceptionV3 on the same GPU"
    # cuDNN's heuristics: a timed search of ~60 convolution shapes would not fit the step.
    run_logged "$log" 20 ours env DCGAN_CUDNN_ALGO=heuristic "$root/build-gpu/benchmarks/bench_inception" --device cuda \
        --size 64 --nc 3 --batch 50 --images 500 --repeats 3
    ours_rc=$rc ours_secs=$secs
    wheel=$(ls "$root"/.gpu-bundle/pytorch_fid-*.whl 2>/dev/null | head -1)
    if [ -n "$wheel" ] && [ -n "$py" ]; then
        run_logged "$log" 15 machine env PYTHONPATH="$wheel" "$py" benchmarks/pytorch_inception.py --device cuda --size 64 \
            --nc 3 --batch 50 --images 500 --repeats 3
    else echo "pytorch-fid's wheel or python3 missing: ours alone" >> "$log"; fi
    if [ "$ours_rc" = 0 ]; then note inception passed "$(grep -E 'median' "$log" | tr '\n' ' ') (${ours_secs} s)"
    else note inception FAILED "exit $ours_rc (77: no device)"; fail inception "bench_inception (exit $ours_rc)"; fi
fi
if has_step e2e && ready e2e; then
    log=$out/e2e.log
    mkdir -p "$tmp/bin"
    printf '#!/usr/bin/env bash\nLD_LIBRARY_PATH=%q exec %q "$@"\n' "$our_ld" "$dcgan" > "$tmp/bin/dcgan"
    chmod +x "$tmp/bin/dcgan"
    start_log "$log" "benchmarks/gpu_e2e.sh: dcgan bench against the PyTorch example (eager fp32, whole-iteration CUDA graph)"
    run_logged "$log" 155 machine env DCGAN="$tmp/bin/dcgan" PYTHONUNBUFFERED=1 benchmarks/gpu_e2e.sh "$tmp/e2e" \
        --sizes "32 64 128" --batches "64 128 256" --ncs 3 --forms eager,graph --iters 30 --repeats 3 --timeout 25
    for f in "$tmp"/e2e/*.log; do [ -f "$f" ] && { echo; echo "--- $(basename "$f")"; cat "$f"; } >> "$log"; done
    rows=$(grep -c '"size"' "$tmp/e2e/raw.jsonl" 2>/dev/null); rows=${rows:-0}
    ok=$(grep -c '"dcgan":{[^}]*"images_per_s"' "$tmp/e2e/raw.jsonl" 2>/dev/null); ok=${ok:-0}
    if [ "$rc" = 0 ] && [ "$ok" = 9 ]; then note e2e passed "9 configurations; table:"
    else
        why="exit $rc"; timed_out && why="stopped at its 155 s limit"
        note e2e FAILED "$why after $secs s; $rows of 9 configurations run, dcgan bench ran in $ok"
        fail e2e "e2e ($ok of 9)"
    fi
    [ -f "$tmp/e2e/table.txt" ] && sed 's/^/            /' "$tmp/e2e/table.txt" | tee -a "$summary"
fi

# --- verdict: one line ------------------------------------------------------------------------------------------
# Without a GPU the device steps fail, as they must: the line names the cause once, then what else failed.
na=""
[ ${#unavail[@]} -gt 0 ] && na="; not available on this machine: $(printf '%s; ' "${unavail[@]}")" && na=${na%; }
if [ ${#fails[@]} = 0 ]; then
    note RESULT PASS "gpu-check $mode in ${SECONDS} s: every check passed$na"
    exit 0
fi
if [ -n "$no_gpu" ]; then
    device_steps=" gpu-tests memcheck racecheck synccheck initcheck train parity bench kernels layers inception e2e "
    failed_dev="" other=""
    for i in "${!fails[@]}"; do
        step=${fail_steps[$i]}
        [ "$step" = device ] && continue
        case "$device_steps" in
            *" $step "*) failed_dev="$failed_dev $step" ;;
            *) other="$other${fails[$i]}; " ;;
        esac
    done
    text="no GPU ($no_gpu)${failed_dev:+, so the device steps failed:$failed_dev}"
    [ -n "$other" ] && text="$text; and besides: ${other%; }"
    note RESULT FAIL "gpu-check $mode in ${SECONDS} s: $text$na"
    exit 1
fi
reasons=$(printf '%s; ' "${fails[@]}")
note RESULT FAIL "gpu-check $mode in ${SECONDS} s: ${reasons%; }$na"
exit 1
