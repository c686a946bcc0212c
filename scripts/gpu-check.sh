#!/usr/bin/env bash
# Chapter 04 on a GPU machine, in ONE call: build, test, sanitize, benchmark, summarise.
#
#   scripts/gpu-check.sh            (writes under $OUT, else ./build/gpu-check)
#
# Steps (each logged to its own file; a failing step is reported and the rest still run):
#   1. configure + build Release for sm_$CUDA_ARCH (default 90: H100/H200), Ninja if present
#   2. ctest -L gpu                 every kernel and whole steps against chapter 01; checkpoints
#   3. compute-sanitizer memcheck and racecheck over the kernel tests (small shapes)
#   4. ch04_gemm --sweep            GEMM stages vs cuBLAS FP32/TF32 at 1024, 2048, 4096
#   5. ch04_step_bench + scripts/bench_ch04.py   ms/step, ours vs PyTorch, eager vs CUDA graph
#   6. with data: ch04_cuda (cublas and vectorized) and ch01_serial on Fashion-MNIST
#      ($PTT_GPU_CHECK_EPOCHS epochs, default 5, to fit one 10-minute device call)
# and prints the summary table (also in summary.md) LAST. Each step's verdict is also appended to
# status.md as soon as it finishes, so a call cut off by its time limit still shows how far it got.
# PTT_GPU_CHECK_SKIP="memcheck racecheck train_ch01 ..." skips steps by name to save device time.
#
# Data: the device machine has no Fashion-MNIST. Copy /usr/share/datasets/fashion-mnist/*.gz into
# a git-ignored folder of the checkout (e.g. data/fashion-mnist, listed in .git/info/exclude),
# carry it to the machine and set PTT_DATA_DIR=data/fashion-mnist; without it step 6 is skipped.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/build/gpu-check}
build=${PTT_GPU_BUILD:-/tmp/ptt-gpu-build}
arch=${CUDA_ARCH:-90}
jobs=$(nproc)
mkdir -p "$out"
status_lines=()

skip=" ${PTT_GPU_CHECK_SKIP:-} "  # e.g. "memcheck racecheck" to save device time
: >"$out/status.md"                # each step's verdict, written as it finishes (survives a cut-off)

# run NAME TIMEOUT CMD...: runs CMD with its output in $out/NAME.log, records ok/FAIL and seconds.
run() {
  local name=$1 limit=$2; shift 2
  if [[ $skip == *" $name "* ]]; then status_lines+=("| $name | SKIPPED (PTT_GPU_CHECK_SKIP) | |"); return 0; fi
  local start=$SECONDS rc
  echo "== $name: $*"
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  local verdict=ok
  [[ $rc -eq 0 ]] || verdict="FAIL (exit $rc)"
  status_lines+=("| $name | $verdict | $((SECONDS - start)) s |")
  echo "${status_lines[-1]}" >>"$out/status.md"
  tail -n 3 "$out/$name.log"
  return $rc
}

if [[ -n ${PTT_DATA_DIR:-} ]]; then  # absolute, and exported: the checkpoint test needs it too
  PTT_DATA_DIR=$(cd "$PTT_DATA_DIR" 2>/dev/null && pwd) || PTT_DATA_DIR=
  export PTT_DATA_DIR
fi
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
nvidia-smi -L >"$out/device.txt" 2>/dev/null || echo "no GPU visible (nvidia-smi -L failed)" >"$out/device.txt"
run configure 300 cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" -DPTT_ENABLE_CUDA=ON -DPTT_ENABLE_MPI=OFF -DPTT_BUILD_EXERCISE_TESTS=OFF
run build 600 cmake --build "$build" -j "$jobs" --target ch04_cuda ch04_gemm ch04_step_bench ch04_tests \
  ch04_orchestration_tests ch04_gpu_tests ch01_serial
exe=$build/chapters/04_cuda_kernels
gpu_tests=$build/tests/ch04/gpu/ch04_gpu_tests

run ctest_gpu 600 ctest --test-dir "$build" -L gpu -j 8 --output-on-failure
run ctest_ch04 300 ctest --test-dir "$build" -L ch04 -LE "exercise|gpu" -j 8 --output-on-failure
# Sanitizers: every kernel, every layout, the small shapes (the large ones only take longer).
small='*GemmKernels*_37x53x29_*:*GemmKernels*_128x10x256_*:*GemmKernels*_10x784x128_*:*GemmKernels*_1x1x1_*:*TrainKernels*:*DeviceStep*'
if command -v compute-sanitizer >/dev/null; then
  run memcheck 600 compute-sanitizer --tool memcheck --error-exitcode 1 "$gpu_tests" --gtest_filter="$small"
  # racecheck: our kernels that share memory between threads (not cuBLAS's).
  shared='*/smem_37x53x29_*:*/blocked2d_37x53x29_*:*/vectorized_37x53x29_*:*/smem_128x10x256_*'
  shared+=':*/blocked2d_128x10x256_*:*/vectorized_128x10x256_*:*BiasGradient*'
  run racecheck 600 compute-sanitizer --tool racecheck --error-exitcode 1 "$gpu_tests" --gtest_filter="$shared"
else
  status_lines+=("| sanitizers | SKIPPED (no compute-sanitizer) | |")
fi

run gemm_sweep 600 "$exe/ch04_gemm" --sweep --json "$out/gemm.json"
run step_bench 600 "$exe/ch04_step_bench" --json "$out/step.json"
run torch_peer 600 python3 "$root/scripts/bench_ch04.py" --json "$out/torch.json"

if [[ -n ${PTT_DATA_DIR:-} && -d ${PTT_DATA_DIR} ]]; then
  epochs=${PTT_GPU_CHECK_EPOCHS:-5}  # 20 (the chapters' default) fits too when the build is warm
  run train_cublas 600 "$exe/ch04_cuda" --no-progress --epochs "$epochs" --gemm cublas \
    --metrics "$out/ch04_cublas.jsonl"
  run train_vectorized 600 "$exe/ch04_cuda" --no-progress --epochs "$epochs" --gemm vectorized \
    --metrics "$out/ch04_vectorized.jsonl"
  run train_ch01 600 "$build/chapters/01_serial/ch01_serial" --no-progress --epochs "$epochs" \
    --metrics "$out/ch01.jsonl"
else
  status_lines+=("| training on Fashion-MNIST | SKIPPED (set PTT_DATA_DIR, see the top of this script) | |")
fi

# The summary, last.
{
  echo "# Chapter 04 GPU check — $(head -n 1 "$out/device.txt")"
  echo
  echo "| step | result | time |"
  echo "| --- | --- | ---: |"
  printf '%s\n' "${status_lines[@]}"
  echo
  [[ -f $out/gemm_sweep.log ]] && { echo "## GEMM (ch04_gemm --sweep)"; echo; grep '^|' "$out/gemm_sweep.log"; echo; }
  [[ -f $out/step_bench.log ]] && { echo "## Training step (ch04_step_bench)"; echo; grep '^|' "$out/step_bench.log"; echo; }
  [[ -f $out/torch_peer.log ]] && { echo "## PyTorch peer (scripts/bench_ch04.py)"; echo; grep -v '^$' "$out/torch_peer.log"; echo; }
  python3 - "$out" <<'PY'
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
ours = [ms(step, small, 128, g, "graph_ms") for g in ("vectorized", "cublas")]
ours = [o for o in ours if o]
if t_eager and ours:
    ratio = t_eager / min(ours)
    print(f"- {small} batch 128: PyTorch eager {t_eager:.3f} ms / ours (graph) {min(ours):.3f} ms = {ratio:.1f}x (target >= 4x): {'met' if ratio >= 4 else 'NOT met'}")
t_wide = ms(torch, wide, 1024, "torch", "eager_ms")
o_wide = ms(step, wide, 1024, "cublas", "graph_ms")
if t_wide and o_wide:
    ratio = t_wide / o_wide
    print(f"- {wide} batch 1024, cuBLAS backend: PyTorch FP32 {t_wide:.3f} ms / ours {o_wide:.3f} ms = {ratio:.2f}x (target >= 0.95x): {'met' if ratio >= 0.95 else 'NOT met'}")
for name in ("ch04_cublas", "ch04_vectorized", "ch01"):
    path = os.path.join(out, name + ".jsonl")
    if os.path.exists(path):
        final = [json.loads(l) for l in open(path) if l.strip()][-1]
        print(f"- {name}: test_acc {final.get('test_acc'):.4f}, samples/s {final.get('samples_per_s', 0):.0f}, checksum {final.get('param_checksum')}")
PY
} >"$out/summary.md" 2>&1
echo
cat "$out/summary.md"
! grep -q "FAIL" "$out/summary.md"
