#!/usr/bin/env bash
# Chapter 04 on a GPU machine, cut to that machine's limits: two parts, one device call each.
#
#   scripts/gpu-check.sh 1   (at most 6 min) build Release for sm_$CUDA_ARCH with MPI, the gpu and ch04
#                            tests, the GEMM sweep, ms/step beside PyTorch, short training runs, and
#                            chapter 02's threads / chapter 03's ranks over 1 2 4 8 16 (the machine's
#                            16 cores) on the small and the wide MLP
#   scripts/gpu-check.sh 2   (at most 4 min) build the GPU tests only, then compute-sanitizer memcheck
#                            and racecheck over the kernel tests on small shapes
#
# Each part writes under $OUT (else build/gpu-check): summary.md, rewritten after every step (so a
# call cut off by its time limit still returns how far it got), the JSON results, and ONE archive
# of all its logs (logs-partN.tar.gz), also refreshed after every step: at most 5 files come back.
# Per-step limits keep each part inside one 10-minute call; PTT_GPU_CHECK_SKIP="racecheck sweep"
# skips steps by name.
#
# Data: the GPU machine has no Fashion-MNIST. Copy /usr/share/datasets/fashion-mnist/*.gz into a
# git-ignored folder of the checkout (e.g. data/fashion-mnist, listed in .git/info/exclude), NAME
# THAT FOLDER IN THE DEVICE CALL'S carry (ignored files do not travel otherwise) and set
# PTT_DATA_DIR=data/fashion-mnist; without it the training and sweep steps say SKIPPED.
set -uo pipefail
part=${1:-}
[[ $part == 1 || $part == 2 ]] || { echo "usage: scripts/gpu-check.sh 1|2  (see the top of this file)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/build/gpu-check}
build=${PTT_GPU_BUILD:-/tmp/ptt-gpu-build}
arch=${CUDA_ARCH:-90}
jobs=$(nproc)
skip=" ${PTT_GPU_CHECK_SKIP:-} "
# Each part stops starting steps, and cuts the running one, at its budget: 6 and 4 minutes with the
# machine's start-up make one 15-minute lease (PTT_GPU_CHECK_BUDGET overrides, in seconds).
deadline=${PTT_GPU_CHECK_BUDGET:-$([[ $part == 1 ]] && echo 350 || echo 230)}
logs=${PTT_GPU_LOGS:-/tmp/ptt-gpu-check}/logs-part$part  # outside $OUT: only the archive comes back
rm -rf "$logs"
mkdir -p "$logs" "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
if [[ -n ${PTT_DATA_DIR:-} ]]; then  # absolute, and exported: the checkpoint test needs it too
  PTT_DATA_DIR=$(cd "$PTT_DATA_DIR" 2>/dev/null && pwd) || PTT_DATA_DIR=
  export PTT_DATA_DIR
fi
have_data() { [[ -n ${PTT_DATA_DIR:-} && -d $PTT_DATA_DIR ]]; }

rows=()
device=$(nvidia-smi -L 2>/dev/null | head -n 1)
device=${device:-no GPU visible (nvidia-smi -L failed)}
# summary.md and the log archive, rewritten after every step.
publish() {
  {
    echo "# Chapter 04 GPU check, part $part — $device — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "| step | result | time |"
    echo "| --- | --- | ---: |"
    printf '%s\n' "${rows[@]}"
    for extra in "$logs"/summary-*.md; do
      if [[ -f $extra ]]; then echo; cat "$extra"; fi
    done
  } >"$out/summary.md.tmp" && mv "$out/summary.md.tmp" "$out/summary.md"
  tar -C "$(dirname "$logs")" -czf "$out/logs-part$part.tar.gz.tmp" "logs-part$part" && mv "$out/logs-part$part.tar.gz.tmp" "$out/logs-part$part.tar.gz"
}
# run NAME LIMIT CMD...: CMD's output in logs/NAME.log; records ok, FAIL or TIMEOUT and seconds.
run() {
  local name=$1 limit=$2; shift 2
  if [[ $skip == *" $name "* ]]; then rows+=("| $name | SKIPPED (PTT_GPU_CHECK_SKIP) | |"); publish; return 0; fi
  local start=$SECONDS rc verdict=ok left=$((deadline - SECONDS))
  if ((left < 5)); then rows+=("| $name | NOT RUN (the part's $deadline s were spent) | |"); publish; return 1; fi
  ((limit > left)) && limit=$left
  echo "== $name: $*"
  timeout "$limit" "$@" >"$logs/$name.log" 2>&1
  rc=$?
  [[ $rc -eq 124 ]] && verdict="TIMEOUT after $limit s"
  [[ $rc -ne 0 && $rc -ne 124 ]] && verdict="FAIL (exit $rc)"
  rows+=("| $name | $verdict | $((SECONDS - start)) s |")
  tail -n 3 "$logs/$name.log"
  publish
  return $rc
}
skipped() { rows+=("| $1 | SKIPPED ($2) | |"); publish; }

gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
configure() {
  run configure 180 cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DPTT_ENABLE_CUDA=ON -DPTT_ENABLE_MPI=ON -DPTT_BUILD_EXERCISE_TESTS=OFF
}
exe=$build/chapters/04_cuda_kernels
gpu_tests=$build/tests/ch04/gpu/ch04_gpu_tests
publish

if [[ $part == 1 ]]; then
  configure
  run build 200 cmake --build "$build" -j "$jobs" --target ch04_cuda ch04_gemm ch04_step_bench ch04_tests \
    ch04_orchestration_tests ch04_gpu_tests ch04_emulated ch01_serial ch02_openmp ch03_mpi
  run ctest_gpu 90 ctest --test-dir "$build" -L gpu -j 8 --output-on-failure
  run ctest_ch04 40 ctest --test-dir "$build" -L ch04 -LE "exercise|gpu" -E "emulator" -j 8 --output-on-failure
  run gemm_sweep 60 "$exe/ch04_gemm" --sweep --json "$out/gemm.json"
  run step_bench 40 "$exe/ch04_step_bench" --json "$out/step.json"
  run torch_peer 40 python3 "$root/scripts/bench_ch04.py" --json "$out/torch.json"
  if have_data; then
    run train_cublas 25 "$exe/ch04_cuda" --no-progress --epochs 1 --gemm cublas --metrics "$logs/ch04_cublas.jsonl"
    run train_warptiled 25 "$exe/ch04_cuda" --no-progress --epochs 1 --gemm warptiled \
      --metrics "$logs/ch04_warptiled.jsonl"
    # Chapters 02 and 03 on the machine's cores: samples/s for 1..16 threads or ranks, two MLPs.
    sweep() {
      local net t
      echo "| program | MLP | workers | samples/s |"
      echo "| --- | --- | ---: | ---: |"
      for net in 256,128 1024,1024; do
        for t in 1 2 4 8 16; do
          "$build/chapters/02_openmp_data_parallel/ch02_openmp" --no-progress --hidden "$net" --threads "$t" \
            --max-steps 100 --batch-size 256 --metrics "$logs/sweep_ch02_${net/,/x}_$t.jsonl" >/dev/null
          echo "| ch02_openmp --threads | $net | $t | $(tail -n 1 "$logs/sweep_ch02_${net/,/x}_$t.jsonl" |
            grep -oE '"samples_per_s":[0-9.]+' | cut -d: -f2 | xargs printf '%.0f') |"
          OMP_NUM_THREADS=1 mpiexec -n "$t" "$build/chapters/03_mpi_data_parallel/ch03_mpi" --no-progress \
            --hidden "$net" --batch-size $((256 / t)) --max-steps 100 \
            --metrics "$logs/sweep_ch03_${net/,/x}_$t.jsonl" >/dev/null
          echo "| mpiexec -n N ch03_mpi (global batch 256) | $net | $t | $(tail -n 1 "$logs/sweep_ch03_${net/,/x}_$t.jsonl" |
            grep -oE '"samples_per_s":[0-9.]+' | cut -d: -f2 | xargs printf '%.0f') |"
        done
      done
    }
    export -f sweep
    export build logs
    run sweep 100 bash -c sweep
    # the rows it printed, also when it was cut off
    { echo "## Threads and ranks on this machine's CPU cores (100 steps, batch 256)"; echo; grep '^|' "$logs/sweep.log"; } \
      >"$logs/summary-sweep.md"
    publish
  else
    skipped "training and sweeps" "set PTT_DATA_DIR and carry its folder, see the top of this script"
  fi
  # The targets, from the JSON results.
  python3 - "$out" "$logs" >"$logs/summary-targets.md" 2>&1 <<'PY'
import json, os, sys
out = sys.argv[1]
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else []
gemm, step, torch = load("gemm.json"), load("step.json"), load("torch.json")
print("## Targets")
print()
at = {r["kernel"]: r["gflops"] for r in gemm if r["m"] == 4096 and r["valid"]}
own = {k: v for k, v in at.items() if not k.startswith("cublas")}
if own and at.get("cublas"):
    best = max(own, key=own.get)
    ratio = own[best] / at["cublas"]
    print(f"- best own GEMM at 4096: {best} {own[best]:.0f} GFLOP/s = {ratio:.2f} x cuBLAS FP32 (target >= 0.75): {'met' if ratio >= 0.75 else 'NOT met'}")
def ms(rows, net, batch, gemm_name, key):
    for r in rows:
        if r["network"] == net and r["batch"] == batch and r["gemm"] == gemm_name:
            return r[key]
small, wide = "784-256-128-10", "784-4096-4096-4096-10"
t_eager = ms(torch, small, 128, "torch", "eager_ms")
ours = [o for o in (ms(step, small, 128, g, "graph_ms") for g in ("vectorized", "warptiled", "cublas")) if o]
if t_eager and ours:
    ratio = t_eager / min(ours)
    print(f"- {small} batch 128: PyTorch eager {t_eager:.3f} ms / ours (graph) {min(ours):.3f} ms = {ratio:.1f}x (target >= 4x): {'met' if ratio >= 4 else 'NOT met'}")
t_wide, o_wide = ms(torch, wide, 1024, "torch", "eager_ms"), ms(step, wide, 1024, "cublas", "graph_ms")
if t_wide and o_wide:
    ratio = t_wide / o_wide
    print(f"- {wide} batch 1024, cuBLAS backend: PyTorch FP32 {t_wide:.3f} ms / ours {o_wide:.3f} ms = {ratio:.2f}x (target >= 0.95x): {'met' if ratio >= 0.95 else 'NOT met'}")
for name in ("ch04_cublas", "ch04_warptiled"):
    path = os.path.join(sys.argv[2], name + ".jsonl")
    if os.path.exists(path):
        final = [json.loads(l) for l in open(path) if l.strip()][-1]
        print(f"- {name}: test_acc {final.get('test_acc'):.4f}, samples/s {final.get('samples_per_s', 0):.0f}, checksum {final.get('param_checksum')}")
PY
  for f in gemm_sweep step_bench; do
    [[ -f $logs/$f.log ]] && { echo "## $f"; echo; grep '^|' "$logs/$f.log"; } >"$logs/summary-$f.md"
  done
  publish
else
  configure
  run build 120 cmake --build "$build" -j "$jobs" --target ch04_gpu_tests
  if ! command -v compute-sanitizer >/dev/null; then
    skipped sanitizers "no compute-sanitizer on this machine"
  else
    # Every kernel, every layout, the small shapes (the large ones only take longer).
    small='*GemmKernels*_37x53x29_*:*GemmKernels*_128x10x256_*:*GemmKernels*_10x784x128_*:*GemmKernels*_1x1x1_*:*TrainKernels*:*DeviceStep*'
    # racecheck: our kernels that share memory between threads (not cuBLAS's).
    shared='*/smem_37x53x29_*:*/blocked2d_37x53x29_*:*/vectorized_37x53x29_*:*/smem_128x10x256_*'
    shared+=':*/blocked2d_128x10x256_*:*/vectorized_128x10x256_*:*/warptiled_37x53x29_*'
    shared+=':*/warptiled_128x10x256_*:*BiasGradient*'
    for tool in memcheck racecheck; do
      filter=$small
      [[ $tool == racecheck ]] && filter=$shared
      run "$tool" 60 compute-sanitizer --tool "$tool" --error-exitcode 1 "$gpu_tests" --gtest_filter="$filter"
      # Some of these machines' runtimes refuse the sanitizer: that is not a pass.
      if grep -qiE "device not supported|not supported on this|unable to (attach|initialize)" "$logs/$tool.log"; then
        rows[-1]="| $tool | REFUSED by this machine ($(grep -m1 -oiE "device not supported|not supported on this[^.]*|unable to (attach|initialize)[^.]*" "$logs/$tool.log")) |  |"
        publish
      fi
    done
  fi
fi
echo
cat "$out/summary.md"
! grep -qE "FAIL|TIMEOUT|REFUSED|NOT RUN" "$out/summary.md"
